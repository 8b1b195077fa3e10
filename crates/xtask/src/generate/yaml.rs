//! JSON values written as block-style YAML, for the generated deployment files: every string
//! double-quoted (JSON's escapes are YAML's), keys bare when they are plain words.

use serde_json::Value;

/// `value` (an object) as a YAML document.
pub(crate) fn document(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out
}

/// Several documents in one file.
pub(crate) fn documents(values: &[Value]) -> String {
    values.iter().map(document).collect::<Vec<_>>().join("---\n")
}

fn key(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
        && !text.starts_with(['-', '.']);
    if plain { text.to_owned() } else { scalar(&Value::String(text.to_owned())) }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "{}".to_owned(),
        Value::Array(items) if items.is_empty() => "[]".to_owned(),
        other => serde_json::to_string(other).expect("a JSON scalar"),
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    }
}

fn write_value(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (name, item) in map {
                if is_block(item) {
                    out.push_str(&format!("{pad}{}:\n", key(name)));
                    let deeper = if item.is_array() { indent } else { indent + 2 };
                    write_value(out, item, deeper);
                } else {
                    out.push_str(&format!("{pad}{}: {}\n", key(name), scalar(item)));
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                if is_block(item) {
                    // The item's first line follows the dash; the rest align with it.
                    let mut inner = String::new();
                    write_value(&mut inner, item, indent + 2);
                    let inner = inner.strip_prefix(&" ".repeat(indent + 2)).unwrap_or(&inner).to_owned();
                    let inner = if item.is_array() { format!("\n{}{}", " ".repeat(indent + 2), inner) } else { inner };
                    out.push_str(&format!("{pad}- {inner}"));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_maps_and_lists_are_block_yaml() {
        let value = serde_json::json!({
            "kind": "Deployment",
            "metadata": {"name": "cart", "labels": {"app.kubernetes.io/name": "cart"}},
            "spec": {"ports": [{"name": "http", "port": 8005}], "args": ["a b", "c"], "empty": {}},
        });
        assert_eq!(
            document(&value),
            "kind: \"Deployment\"\nmetadata:\n  labels:\n    app.kubernetes.io/name: \"cart\"\n  name: \"cart\"\nspec:\n  args:\n  - \"a b\"\n  - \"c\"\n  empty: {}\n  ports:\n  - name: \"http\"\n    port: 8005\n"
        );
    }
}
