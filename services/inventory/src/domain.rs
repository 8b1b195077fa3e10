//! Pure rules of stock: reservation lines (valid, merged, sorted: the order rows are locked
//! in), availability and when a change must be announced.

use service_kit::{FieldCode, FieldErrors};

/// Most lines one reservation may hold, and most units of one line.
pub(crate) const MAX_LINES: usize = 100;
pub(crate) const MAX_QUANTITY: i64 = 10_000;

/// One line to hold.
pub(crate) use contracts::types::Line;

/// Checks reservation lines and merges repeated SKUs; the result is sorted by SKU, the one
/// order in which every reservation locks stock rows (so overlapping reservations never
/// deadlock).
pub(crate) fn normalize_lines(errors: &mut FieldErrors, lines: &[Line]) -> Vec<Line> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        errors.push("lines", FieldCode::OutOfRange, format!("a reservation has 1 to {MAX_LINES} lines"));
    }
    let mut merged: Vec<Line> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !(1..=MAX_QUANTITY).contains(&line.quantity.get()) {
            errors.push(
                format!("lines[{i}].quantity"),
                FieldCode::OutOfRange,
                format!("a quantity is 1 to {MAX_QUANTITY}"),
            );
        }
        match merged.iter_mut().find(|m| m.sku == line.sku) {
            Some(existing) => existing.quantity = existing.quantity.saturating_add(line.quantity),
            None => merged.push(line.clone()),
        }
    }
    if merged.iter().any(|l| l.quantity.get() > MAX_QUANTITY) {
        errors.push("lines", FieldCode::OutOfRange, format!("a SKU's total quantity is at most {MAX_QUANTITY}"));
    }
    merged.sort_by(|a, b| a.sku.cmp(&b.sku));
    merged
}

/// What a stock row's change means for its announcements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Announce {
    /// Availability crossed zero (either way): STOCK_CHANGED.
    pub changed: bool,
    /// Available fell below the threshold: STOCK_LOW.
    pub low: bool,
}

/// Compares what was available before and after a change.
pub(crate) fn announce(available_before: i64, available_after: i64, threshold: i64) -> Announce {
    Announce {
        changed: (available_before > 0) != (available_after > 0),
        low: available_before >= threshold && available_after < threshold,
    }
}

#[cfg(test)]
mod tests {
    use contracts::types::{Quantity, Sku};

    use super::*;

    fn line(sku: &str, quantity: i64) -> Line {
        Line { sku: Sku::parse(sku).unwrap(), quantity: Quantity::new(quantity).unwrap() }
    }

    #[test]
    fn lines_are_merged_and_sorted_and_bad_ones_named() {
        let mut errors = FieldErrors::default();
        let lines = normalize_lines(&mut errors, &[line("B", 1), line("A", 2), line("B", 3)]);
        assert!(errors.is_empty());
        assert_eq!(lines, [line("A", 2), line("B", 4)]);
        let mut errors = FieldErrors::default();
        normalize_lines(&mut errors, &[line("B", 1), line("C", 0)]);
        let fields: Vec<String> = errors.into_errors().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["lines[1].quantity"]);
        let mut errors = FieldErrors::default();
        normalize_lines(&mut errors, &[]);
        assert!(!errors.is_empty());
    }

    #[test]
    fn availability_is_announced_when_it_crosses_zero_either_way() {
        assert_eq!(announce(1, 0, 5), Announce { changed: true, low: false });
        assert_eq!(announce(0, 3, 5), Announce { changed: true, low: false });
        assert_eq!(announce(10, 4, 5), Announce { changed: false, low: true });
        assert_eq!(announce(4, 3, 5), Announce { changed: false, low: false }, "already low: said once");
        assert_eq!(announce(5, 5, 5), Announce { changed: false, low: false });
    }
}
