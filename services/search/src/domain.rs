//! The search service's pure rules (no HTTP, no index): how text becomes words (the same for
//! documents and queries), which indexed word a typed word may match (the edit distance that
//! grows with its length, an adjacent swap costing one), highlighting, and the search request
//! with its opaque cursor.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use contracts::listing::{Filters, PageSize, last, parse_bool, text};
use serde::{Deserialize, Serialize};
use service_kit::{FieldCode, FieldError, FieldErrors};

/// The words of a text: lowercased, common Latin accents folded, split at anything that is not
/// a letter or a digit. `"T-Shirt, Größe M"` → `["t", "shirt", "grosse", "m"]`.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                fold(lower, &mut current);
            }
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn fold(c: char, out: &mut String) {
    let plain = match c {
        'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' => "a",
        'ä' | 'æ' => "ae",
        'ç' | 'č' | 'ć' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' => "o",
        'ö' | 'œ' => "oe",
        'ù' | 'ú' | 'û' | 'ū' => "u",
        'ü' => "ue",
        'ß' => "ss",
        'ý' | 'ÿ' => "y",
        'ł' => "l",
        'š' | 'ś' => "s",
        'ž' | 'ź' | 'ż' => "z",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(plain);
}

/// What a text field indexes: its words and each adjacent pair written together, so that a
/// shopper typing `tshirt` finds "T-Shirt" (and `t-shirt` finds "Tshirt").
pub fn index_text(text: &str) -> String {
    let words = words(text);
    let mut out = words.join(" ");
    for pair in words.windows(2) {
        out.push(' ');
        out.push_str(&pair[0]);
        out.push_str(&pair[1]);
    }
    out
}

/// The edits a typed word of this many letters may be away from an indexed word: 0 up to 4
/// letters, 1 up to 8, 2 above.
pub fn max_distance(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
/// two adjacent letters each cost one (`hoodei` is one from `hoodie`).
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    bounded_distance(&a, &b, usize::MAX).expect("any distance is within usize::MAX")
}

/// The same distance when it is at most `max`, else `None`, in O(len) memory and cut short as
/// soon as no alignment can stay within `max` (review f5592e3 M6: highlighting runs this for
/// every word of every hit): lengths further apart than `max` are refused at once, and a row
/// whose smallest cell exceeds `max` ends the work. Letters are compared as `char`s, with three
/// rolling rows (the swap looks two rows back) in one buffer per thread.
pub fn bounded_distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    thread_local! {
        static ROWS: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    ROWS.with_borrow_mut(|rows| {
        let width = b.len() + 1;
        rows.clear();
        rows.resize(3 * width, 0);
        let (mut before, mut previous, mut current) = (0, width, 2 * width);
        for (j, cell) in rows[previous..previous + width].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            rows[current] = i;
            let mut smallest = i;
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best =
                    (rows[previous + j] + 1).min(rows[current + j - 1] + 1).min(rows[previous + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(rows[before + j - 2] + 1);
                }
                rows[current + j] = best;
                smallest = smallest.min(best);
            }
            if smallest > max {
                return None;
            }
            (before, previous, current) = (previous, current, before);
        }
        Some(rows[previous + b.len()]).filter(|d| *d <= max)
    })
}

/// How far `indexed` is from the typed `word`, if it is a match at all: within the word's
/// allowed distance, or, for the last typed word (`prefix`), when some beginning of `indexed`
/// is. A shorter distance ranks higher.
pub fn match_distance(word: &str, indexed: &str, prefix: bool) -> Option<usize> {
    let allowed = usize::from(max_distance(word));
    let typed: Vec<char> = word.chars().collect();
    let chars: Vec<char> = indexed.chars().collect();
    if let Some(whole) = bounded_distance(&typed, &chars, allowed) {
        return Some(whole);
    }
    if !prefix {
        return None;
    }
    let shortest = typed.len().saturating_sub(allowed).max(1);
    (shortest..=chars.len().min(typed.len() + allowed))
        .filter_map(|n| bounded_distance(&typed, &chars[..n], allowed))
        .min()
}

/// A typed query: its words, the last one also matched as a beginning (search as you type).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Terms {
    pub words: Vec<String>,
}

impl Terms {
    pub fn new(query: &str) -> Self {
        let mut words = words(query);
        words.truncate(MAX_WORDS);
        Self { words }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether the i-th word is matched as a beginning too.
    pub fn is_prefix(&self, i: usize) -> bool {
        i + 1 == self.words.len()
    }

    /// Whether an indexed word matches any typed word.
    fn matches(&self, indexed: &str) -> bool {
        self.words.iter().enumerate().any(|(i, w)| match_distance(w, indexed, self.is_prefix(i)).is_some())
    }
}

/// The most words of a query that count (a pasted paragraph is cut, not refused).
pub const MAX_WORDS: usize = 8;

/// How much of a description a snippet looks through for its first match: the snippet shows
/// about 160 characters, so a match further in than this is not worth the scan (descriptions
/// may be 20 000 characters).
pub const SNIPPET_SCAN: usize = 2_000;

/// The byte ranges of the words of `text` that match the query. Two words written apart that
/// match together (`T-Shirt` for `tshirt`) both count.
fn marks(text: &str, terms: &Terms) -> Vec<(usize, usize)> {
    marks_up_to(text, terms, usize::MAX)
}

/// The runs of letters and digits of a text, by byte range, with their folded form, one at a
/// time (a snippet stops at its first match instead of folding the whole text).
struct Runs<'a> {
    text: &'a str,
    chars: std::str::CharIndices<'a>,
}

impl Iterator for Runs<'_> {
    type Item = (usize, usize, String);

    fn next(&mut self) -> Option<Self::Item> {
        let from = loop {
            let (at, c) = self.chars.next()?;
            if c.is_alphanumeric() {
                break at;
            }
        };
        let to = self.chars.find(|(_, c)| !c.is_alphanumeric()).map_or(self.text.len(), |(at, _)| at);
        Some((from, to, words(&self.text[from..to]).concat()))
    }
}

/// The same, stopping after `most` marks.
fn marks_up_to(text: &str, terms: &Terms, most: usize) -> Vec<(usize, usize)> {
    let mut runs = Runs { text, chars: text.char_indices() }.peekable();
    let mut out = Vec::new();
    // Marked already as the second half of a pair that matched together.
    let mut carried = false;
    while let Some((from, to, folded)) = runs.next() {
        if out.len() >= most {
            break;
        }
        let mut marked = carried || terms.matches(&folded);
        carried = false;
        if let Some((_, _, next)) = runs.peek()
            && terms.matches(&format!("{folded}{next}"))
        {
            marked = true;
            carried = true;
        }
        if marked {
            out.push((from, to));
        }
    }
    out
}

/// `text` as HTML with every word that matches the query inside `<mark>`, everything else
/// escaped; `None` when nothing matches.
pub fn highlight(text: &str, terms: &Terms) -> Option<String> {
    let marks = marks(text, terms);
    if marks.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for (from, to) in marks {
        out.push_str(&escape(&text[at..from]));
        out.push_str("<mark>");
        out.push_str(&escape(&text[from..to]));
        out.push_str("</mark>");
        at = to;
    }
    out.push_str(&escape(&text[at..]));
    Some(out)
}

/// About `width` characters of `text` around its first matching word, highlighted, cut at
/// spaces, with `…` where text was left out.
pub fn snippet(text: &str, terms: &Terms, width: usize) -> Option<String> {
    // Only the first `SNIPPET_SCAN` characters are looked through, and only up to the first
    // match: the snippet is about `width` characters around it.
    let scanned = text.char_indices().nth(SNIPPET_SCAN).map_or(text, |(end, _)| &text[..end]);
    let plain = scanned.split_whitespace().collect::<Vec<_>>().join(" ");
    let (first, _) = *marks_up_to(&plain, terms, 1).first()?;
    let before: Vec<(usize, char)> = plain[..first].char_indices().collect();
    let mut start = before.len().checked_sub(width / 3).map_or(0, |i| before[i].0);
    if start > 0 {
        start = plain[start..first].find(' ').map_or(first, |space| start + space + 1);
    }
    let mut end = plain[start..].char_indices().nth(width).map_or(plain.len(), |(i, _)| start + i);
    if end < plain.len() {
        end = plain[..end].rfind(' ').filter(|space| *space > first).unwrap_or(end);
    }
    let marked = highlight(&plain[start..end], terms)?;
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < plain.len() || scanned.len() < text.len() { "…" } else { "" };
    Some(format!("{lead}{marked}{tail}"))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The orders a search can be sorted in; ties newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
}

impl Sort {
    fn parse(raw: Option<&str>) -> Result<Self, FieldError> {
        Ok(match raw {
            None | Some("relevance") => Sort::Relevance,
            Some("price_asc") => Sort::PriceAsc,
            Some("price_desc") => Sort::PriceDesc,
            Some("newest") => Sort::Newest,
            Some(_) => {
                return Err(FieldError::new(
                    "sort",
                    FieldCode::InvalidValue,
                    "sort must be relevance, price_asc, price_desc or newest",
                ));
            }
        })
    }
}

/// Where the next page starts: how many results came before, for this sort and this query (a
/// cursor of another search is refused rather than misread). Opaque to clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: Sort,
    #[serde(rename = "o")]
    pub offset: usize,
    /// A fingerprint of the query and filters.
    #[serde(rename = "q")]
    pub query: u64,
}

/// The deepest a search pages (past it, a shopper refines the query).
pub const MAX_OFFSET: usize = 1000;

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    fn decode(raw: &str, sort: Sort, query: u64) -> Result<Self, FieldError> {
        URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Cursor>(&bytes).ok())
            .filter(|c| c.sort == sort && c.query == query && c.offset <= MAX_OFFSET)
            .ok_or_else(|| {
                FieldError::new("cursor", FieldCode::InvalidCursor, "the cursor is not one this search handed out")
            })
    }
}

/// A search request, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRequest {
    pub terms: Terms,
    pub filters: Filters,
    pub sort: Sort,
    pub limit: PageSize,
    pub offset: usize,
    pub facets: bool,
    /// The fingerprint cursors carry.
    pub fingerprint: u64,
}

impl SearchRequest {
    /// Parses the query pairs of `GET /search`; every invalid parameter is reported at once.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let q = text(pairs, &mut errors, "q", 200).unwrap_or_default();
        let terms = Terms::new(&q);
        let sort = errors.check(Sort::parse(last(pairs, "sort")));
        let limit = errors.check(PageSize::parse(last(pairs, "limit")));
        let facets = last(pairs, "facets").and_then(|raw| errors.check(parse_bool("facets", raw))).unwrap_or(false);
        let filters = Filters::parse(pairs, &mut errors);
        let fingerprint = fingerprint(&terms, &filters);
        let offset = match (last(pairs, "cursor"), sort) {
            (Some(raw), Some(sort)) => errors.check(Cursor::decode(raw, sort, fingerprint)).map(|c| c.offset),
            _ => None,
        }
        .unwrap_or(0);
        if !errors.is_empty() {
            return Err(errors.into_errors());
        }
        Ok(Self {
            terms,
            filters,
            sort: sort.expect("checked"),
            limit: limit.expect("checked"),
            offset,
            facets,
            fingerprint,
        })
    }

    /// The cursor of the page after this one, if `total` goes beyond it (and paging may go on).
    pub fn next_cursor(&self, total: usize) -> Option<String> {
        let next = self.offset + self.limit.get() as usize;
        (next < total && next <= MAX_OFFSET)
            .then(|| Cursor { sort: self.sort, offset: next, query: self.fingerprint }.encode())
    }
}

/// FNV-1a over the words and filters: stable across processes and replicas.
fn fingerprint(terms: &Terms, filters: &Filters) -> u64 {
    let text = format!("{:?}|{filters:?}", terms.words);
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    use contracts::listing::query_pairs as pairs;

    #[test]
    fn words_fold_case_accents_and_punctuation() {
        assert_eq!(words("T-Shirt, Größe M"), ["t", "shirt", "groesse", "m"]);
        assert_eq!(index_text("Async T-Shirt"), "async t shirt asynct tshirt");
        assert!(words(" -- ").is_empty());
    }

    #[test]
    fn the_allowed_distance_grows_with_the_word_and_a_swap_costs_one() {
        assert_eq!((max_distance("mug"), max_distance("hoodie"), max_distance("sweatshirt")), (0, 1, 2));
        assert_eq!(distance("hoodei", "hoodie"), 1);
        assert_eq!(distance("shrit", "shirt"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(bounded_distance(&chars("kitten"), &chars("sitting"), 3), Some(3));
        assert_eq!(bounded_distance(&chars("kitten"), &chars("sitting"), 2), None, "cut short past the bound");
        assert_eq!(bounded_distance(&chars("hoodie"), &chars("hoodiesweatshirt"), 2), None, "lengths too far apart");
        assert_eq!(bounded_distance(&chars("hoodei"), &chars("hoodie"), 1), Some(1));
        assert_eq!(match_distance("hoodei", "hoodie", false), Some(1));
        assert_eq!(match_distance("mgu", "mug", false), None, "short words must be exact");
        assert_eq!(match_distance("hoo", "hoodie", true), Some(0), "the last word is a beginning");
        assert_eq!(match_distance("hoo", "hoodie", false), None);
        assert_eq!(match_distance("swaetsh", "sweatshirt", true), Some(1));
    }

    #[test]
    fn highlights_mark_matching_words_and_escape_the_rest() {
        let terms = Terms::new("tshirt <b>");
        assert_eq!(
            highlight("Async T-Shirt <b>", &terms).as_deref(),
            Some("Async <mark>T</mark>-<mark>Shirt</mark> &lt;<mark>b</mark>&gt;")
        );
        assert_eq!(highlight("Coffee mug", &Terms::new("hoodie")), None);
        let long = format!("{} the hoodie {}", "word ".repeat(40), "tail ".repeat(40));
        let cut = snippet(&long, &Terms::new("hodie"), 60).unwrap();
        assert!(cut.starts_with('…') && cut.contains("<mark>hoodie</mark>") && cut.ends_with('…'), "{cut}");
    }

    #[test]
    fn a_snippet_looks_only_at_the_start_of_a_long_description() {
        let terms = Terms::new("cotton shirt blue soft classic comfort organic fabri");
        let long = "cotton shirt blue soft classic comfort organic fabric ".repeat(400);
        let cut = snippet(&long, &terms, 160).unwrap();
        assert!(cut.starts_with("<mark>cotton</mark>") && cut.ends_with('…') && cut.len() < 1_000, "{cut}");
        let late = format!("{}hoodie", "word ".repeat(SNIPPET_SCAN));
        assert_eq!(
            snippet(&late, &Terms::new("hoodie"), 160),
            None,
            "a match past the scanned start is not looked for"
        );
    }

    #[test]
    fn requests_validate_every_parameter_and_cursors_belong_to_their_search() {
        let request = SearchRequest::parse(&pairs("q=Hoodie&sort=price_asc&limit=5&facets=true")).unwrap();
        assert_eq!((request.sort, request.limit.get(), request.offset, request.facets), (Sort::PriceAsc, 5, 0, true));
        let cursor = request.next_cursor(12).unwrap();
        let next = SearchRequest::parse(&pairs(&format!("q=hoodie&sort=price_asc&limit=5&cursor={cursor}"))).unwrap();
        assert_eq!(next.offset, 5);
        assert_eq!(next.next_cursor(10), None, "the last page has no cursor");
        let errors = SearchRequest::parse(&pairs(&format!("q=mug&sort=price_asc&cursor={cursor}"))).unwrap_err();
        assert_eq!(errors[0].field, "cursor", "another query's cursor is refused");
        let errors = SearchRequest::parse(&pairs("sort=cheap&limit=0&min_price=-1&attr.Bad=x")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sort", "limit", "min_price", "attr.Bad"]);
    }
}
