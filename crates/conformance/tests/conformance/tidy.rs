//! The tidy test: the shape of the code itself. Every service has the same layout, SQL lives
//! only in a service's `store`, transactions are opened only by its use cases (`app`), every
//! Rust file opens with a `//!` line, no module doc of a built service still promises what was
//! built, only tests arm failpoints, every error code a test expects is in the registry, no
//! crate's modules use one another in a circle, no function of shipped code exceeds 80 lines, and the README's tables and ARCHITECTURE.md's
//! count of services are right.

use std::path::{Path, PathBuf};

use service_kit::fleet::{GATEWAY, SERVICES};
use service_kit::{Code, FieldCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// A service is a skeleton while its library says so; everything else is built.
fn is_skeleton(service: &str) -> bool {
    read(&root().join("services").join(service).join("src/lib.rs")).contains("A skeleton until its issue lands")
}

/// `name.rs` or `name/mod.rs` under `src`.
fn has_module(src: &Path, name: &str) -> bool {
    src.join(format!("{name}.rs")).is_file() || src.join(name).join("mod.rs").is_file()
}

#[test]
fn every_service_has_the_one_layout() {
    let mut problems = Vec::new();
    for spec in SERVICES {
        let src = root().join("services").join(spec.name).join("src");
        let mut required = vec!["lib", "main", "config", "error", "domain"];
        if spec.name != GATEWAY {
            // The gateway owns no data and handles no events.
            required.extend(["store", "events"]);
        }
        for module in required {
            if !has_module(&src, module) {
                problems.push(format!("services/{}: no `{module}` module", spec.name));
            }
        }
        if !src.join("routes").join("mod.rs").is_file() {
            problems.push(format!("services/{}: `routes` is not a folder (routes/mod.rs)", spec.name));
        }
        let lib = read(&src.join("lib.rs"));
        if !lib.contains("pub async fn build(") {
            problems.push(format!("services/{}: lib.rs has no `pub async fn build(config)`", spec.name));
        }
        // main.rs only wires: no handlers, no SQL, no helpers of its own.
        let main = read(&src.join("main.rs"));
        let functions = main.matches("fn ").count();
        if functions != 1 || main.lines().count() > 15 {
            problems.push(format!("services/{}: main.rs does more than wire (move commands to cli.rs)", spec.name));
        }
        for domain in [src.join("domain.rs"), src.join("domain")] {
            for file in if domain.is_dir() { rust_files(&domain) } else { vec![domain] } {
                let Ok(text) = std::fs::read_to_string(&file) else { continue };
                for banned in ["axum::", "sqlx::", "http::", "StatusCode", "Problem", "redis::"] {
                    if text.contains(banned) {
                        problems.push(format!("{}: the domain uses `{banned}` (no HTTP or SQL)", relative(&file)));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether a line carries SQL: a query call or a string that starts a statement.
fn looks_like_sql(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    ["sqlx::query", "query_as(", "query_as::<", "query_scalar("].iter().any(|call| lower.contains(call))
        || ["\"select ", "\"insert into ", "\"delete from ", "\"with "].iter().any(|start| lower.contains(start))
        || (lower.contains("\"update ") && lower.contains(" set "))
}

#[test]
fn sql_lives_only_in_a_services_store() {
    let mut problems = Vec::new();
    for spec in SERVICES {
        let src = root().join("services").join(spec.name).join("src");
        for file in rust_files(&src) {
            let rel = file.strip_prefix(&src).expect("under src");
            if rel.starts_with("store") || rel == Path::new("store.rs") {
                continue;
            }
            for (number, line) in read(&file).lines().enumerate() {
                if looks_like_sql(line) {
                    problems.push(format!("{}:{}: SQL outside store: {}", relative(&file), number + 1, line.trim()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The one transaction outside a service's `app`: payment's sandbox keeps the books of the
/// provider it stands in for (a stand-in for Stripe's ledger, not the shop's data).
const PROVIDER_BOOKS: &str = "provider/sandbox.rs";

/// Where a line of a service's source breaks the layering: a transaction opened outside the
/// use cases (`app`), or an HTTP error built in the store.
fn layering_problem(rel: &Path, line: &str) -> Option<&'static str> {
    let in_app = rel.starts_with("app") || rel == Path::new("app.rs") || rel == Path::new(PROVIDER_BOOKS);
    let in_store = rel.starts_with("store") || rel == Path::new("store.rs");
    if !in_app && line.contains(".begin()") {
        return Some("a transaction opened outside the use cases (app)");
    }
    let http_in_store = ["Problem", "ApiError", "FieldError", "StatusCode", "axum::"].iter().any(|t| line.contains(t));
    if in_store && http_in_store {
        return Some("an HTTP error or type in the store (it returns rows and sqlx errors)");
    }
    if in_store && (line.contains("events::enqueue") || line.contains("audit::record")) {
        return Some("an event or audit entry written by the store (the use case writes it with its change)");
    }
    None
}

#[test]
fn only_a_services_use_cases_open_transactions_and_the_store_knows_no_http() {
    let mut problems = Vec::new();
    for spec in SERVICES.iter().filter(|s| s.name != GATEWAY) {
        let src = root().join("services").join(spec.name).join("src");
        for file in rust_files(&src) {
            let rel = file.strip_prefix(&src).expect("under src");
            for (number, line) in read(&file).lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                if let Some(problem) = layering_problem(rel, line) {
                    problems.push(format!("{}:{}: {problem}: {}", relative(&file), number + 1, line.trim()));
                }
            }
        }
        if !has_module(&src, "app") {
            problems.push(format!("services/{}: no `app` module (its use cases)", spec.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_layering_check_tells_the_layers_apart() {
    let tx = "    let mut tx = state.pool.begin().await?;";
    assert!(layering_problem(Path::new("routes/staff.rs"), tx).is_some());
    assert!(layering_problem(Path::new("store/writes.rs"), tx).is_some());
    assert!(layering_problem(Path::new("app/pages.rs"), tx).is_none());
    let problem = "        return Err(Problem::validation(errors));";
    assert!(layering_problem(Path::new("store.rs"), problem).is_some());
    assert!(layering_problem(Path::new("app/pages.rs"), problem).is_none());
    let event = "    events::enqueue(tx, crate::SERVICE, &event).await?;";
    assert!(layering_problem(Path::new("store/mod.rs"), event).is_some());
    assert!(layering_problem(Path::new("app/settle.rs"), event).is_none());
}

/// Whether `path` is test code: under a `tests` directory.
fn is_test_code(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "tests")
}

#[test]
fn only_tests_arm_failpoints() {
    // Failpoints are compiled into the shipped binaries (one build for tests and services); what
    // keeps them inert there is that nothing but a test arms one.
    let mut problems = Vec::new();
    for dir in ["crates", "services"] {
        for file in rust_files(&root().join(dir)) {
            if is_test_code(&file) || file.ends_with("events/src/failpoint.rs") {
                continue;
            }
            for (number, line) in read(&file).lines().enumerate() {
                if line.contains("failpoint::arm") {
                    problems.push(format!("{}:{}: arms a failpoint outside tests", relative(&file), number + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_sql_detector_finds_statements_and_leaves_prose_alone() {
    assert!(looks_like_sql(r#"    sqlx::query("delete from x").execute(tx)"#));
    assert!(looks_like_sql(r#"        "select id from users where email = $1","#));
    assert!(looks_like_sql(r#"    "update users set role = 'admin' where id = $1""#));
    assert!(!looks_like_sql(r#"    // update the cache after the commit"#));
    assert!(!looks_like_sql(r#"    "update your address" "#));
}

#[test]
fn every_rust_file_opens_with_its_purpose() {
    let mut problems = Vec::new();
    for dir in ["crates", "services"] {
        for file in rust_files(&root().join(dir)) {
            if !read(&file).trim_start().starts_with("//!") {
                problems.push(format!("{}: no `//!` line saying what it is for", relative(&file)));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_module_doc_of_a_built_service_promises_what_is_built() {
    let mut problems = Vec::new();
    for spec in SERVICES.iter().filter(|s| !is_skeleton(s.name)) {
        for file in rust_files(&root().join("services").join(spec.name).join("src")) {
            for line in read(&file).lines().filter(|l| l.starts_with("//!")) {
                let lower = line.to_ascii_lowercase();
                if ["arrives in", "arrive in", "arrives with", "arrive with"].iter().any(|p| lower.contains(p)) {
                    problems.push(format!("{}: stale promise: {}", relative(&file), line.trim()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The snake_case literals of a line that asserts on an error code.
fn expected_codes(line: &str) -> Vec<&str> {
    // `.code()` compares typed codes, which the compiler checks already.
    if !["[\"code\"]", "code.as_str()"].iter().any(|marker| line.contains(marker)) {
        return Vec::new();
    }
    line.split('"')
        .skip(1)
        .step_by(2)
        .filter(|literal| {
            literal.len() > 2
                && *literal != "code"
                && literal.contains('_')
                && literal.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .collect()
}

#[test]
fn every_error_code_a_test_expects_is_in_the_registry() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for dir in ["crates", "services"] {
        for file in rust_files(&root().join(dir)) {
            for (number, line) in read(&file).lines().enumerate() {
                for code in expected_codes(line) {
                    checked += 1;
                    if Code::parse(code).is_none() && FieldCode::parse(code).is_none() {
                        problems.push(format!("{}:{}: `{code}` is not a registered code", relative(&file), number + 1));
                    }
                }
            }
        }
    }
    // NGINX answers some problems itself.
    let nginx = read(&root().join("nginx/nginx.conf.template"));
    for code in nginx.split("\"code\":\"").skip(1).filter_map(|rest| rest.split('"').next()) {
        checked += 1;
        if Code::parse(code).is_none() {
            problems.push(format!("nginx/nginx.conf.template: `{code}` is not a registered code"));
        }
    }
    assert!(checked > 20, "the scan found only {checked} expected codes: is it still looking?");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The cells of a table row (pipes inside backticks are text).
fn cells(row: &str) -> usize {
    let mut in_code = false;
    let mut pipes = 0usize;
    for c in row.trim().chars() {
        match c {
            '`' => in_code = !in_code,
            '|' if !in_code => pipes += 1,
            _ => {}
        }
    }
    pipes.saturating_sub(1)
}

/// Problems of the Markdown tables in `text`: each block of `|` lines needs a header and a
/// separator row, and every row as many cells as its header.
fn table_problems(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].trim_start().starts_with('|') {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && lines[i].trim_start().starts_with('|') {
            i += 1;
        }
        let block = &lines[start..i];
        let separator = block.get(1).is_some_and(|row| row.contains("---") && row.chars().all(|c| "|-: ".contains(c)));
        if !separator {
            problems.push(format!("line {}: a table without a header and separator row", start + 1));
            continue;
        }
        let width = cells(block[0]);
        for (offset, row) in block.iter().enumerate() {
            if cells(row) != width {
                problems.push(format!(
                    "line {}: {} cells where the header has {width}",
                    start + offset + 1,
                    cells(row)
                ));
            }
        }
    }
    problems
}

#[test]
fn the_readmes_tables_are_well_formed() {
    let problems = table_problems(&read(&root().join("README.md")));
    assert!(problems.is_empty(), "README.md:\n{}", problems.join("\n"));
}

#[test]
fn the_table_check_catches_a_table_split_by_a_blank_line_and_a_short_row() {
    let split = "| a | b |\n|---|---|\n| 1 | 2 |\n\n| 3 | 4 |\n";
    assert_eq!(table_problems(split).len(), 1);
    let short = "| a | b |\n|---|---|\n| 1 |\n";
    assert_eq!(table_problems(short).len(), 1);
    assert!(table_problems("| a | `x|y` |\n|---|---|\n| 1 | 2 |\n").is_empty());
}

const NUMBERS: [&str; 15] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen",
];

/// How ARCHITECTURE.md says that `n` services are skeletons ("no service is a skeleton", "one is a
/// skeleton", "two are skeletons").
fn skeleton_claim(n: usize) -> String {
    match n {
        0 => "no service is a skeleton".to_owned(),
        1 => "one is a skeleton".to_owned(),
        n => format!("{} are skeletons", NUMBERS[n]),
    }
}

#[test]
fn architecture_counts_the_built_and_skeleton_services_right() {
    let text = read(&root().join("ARCHITECTURE.md")).to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    let skeletons = SERVICES.iter().filter(|s| is_skeleton(s.name)).count();
    let built = SERVICES.len() - skeletons;
    let built_claim = format!("{} services are built", NUMBERS[built]);
    assert!(text.contains(&built_claim), "ARCHITECTURE.md should say \"{built_claim}\"");
    assert!(text.contains(&skeleton_claim(skeletons)), "ARCHITECTURE.md should say \"{}\"", skeleton_claim(skeletons));
    for (index, word) in NUMBERS.iter().enumerate() {
        for claim in [format!("{word} services are built"), skeleton_claim(index)] {
            let right =
                (index == built && claim.contains("built")) || (index == skeletons && claim.contains("skeleton"));
            assert!(right || !text.contains(&claim), "ARCHITECTURE.md claims \"{claim}\"");
        }
    }
}

/// The `location` blocks of an NGINX config, each as its text.
fn nginx_locations(config: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    // A block starts where a line (not a comment) starts with `location `.
    let starts =
        config.match_indices('\n').map(|(i, _)| i + 1).filter(|&i| config[i..].trim_start().starts_with("location "));
    for line_start in starts {
        let start = line_start + (config[line_start..].len() - config[line_start..].trim_start().len());
        let Some(open) = config[start..].find('{') else { continue };
        let mut depth = 0;
        for (offset, c) in config[start + open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        blocks.push(config[start..start + open + offset + 1].to_owned());
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    blocks
}

#[test]
fn every_nginx_location_that_sets_a_header_keeps_the_security_headers() {
    // NGINX inherits no add_header into a location that has one of its own (review L8).
    let config = read(&root().join("nginx/nginx.conf.template"));
    let locations = nginx_locations(&config);
    assert!(locations.len() >= 5, "the scan found the locations");
    let missing: Vec<&String> = locations
        .iter()
        .filter(|block| block.contains("add_header") && !block.contains("security-headers.conf"))
        .collect();
    assert!(missing.is_empty(), "locations without the security headers:\n{missing:#?}");
}

/// Where a declared setting's name is spelled as a string literal outside its declaration.
fn spelled_settings(text: &str) -> Vec<&'static str> {
    settings::table().into_iter().map(|(s, _)| s.name).filter(|name| text.contains(&format!("\"{name}\""))).collect()
}

#[test]
fn a_settings_name_is_spelled_once_in_its_declaration() {
    let mut found = Vec::new();
    for dir in ["crates", "services"] {
        for path in rust_files(&root().join(dir)) {
            let rel = relative(&path);
            if rel.starts_with("crates/settings/") {
                continue;
            }
            for name in spelled_settings(&read(&path)) {
                found.push(format!("{rel}: \"{name}\" (use its declaration's `.name`)"));
            }
        }
    }
    assert!(found.is_empty(), "setting names spelled outside crates/settings:\n{}", found.join("\n"));
}

#[test]
fn the_spelling_check_finds_a_literal_name_and_leaves_prose_alone() {
    let name = settings::site::STOREFRONT_URL.name;
    assert_eq!(spelled_settings(&format!("env.push(({name:?}.into(), url))")), [name]);
    assert!(spelled_settings(&format!("/// `{name}` is where links point")).is_empty());
}

/// A crate's modules (`a::b` for `src/a/b.rs` or `src/a/b/mod.rs`) with the text of each, the
/// test modules cut off.
fn modules(src: &Path) -> std::collections::BTreeMap<String, String> {
    rust_files(src)
        .into_iter()
        .map(|file| {
            let rel = file.strip_prefix(src).expect("under src").with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|last| ["mod", "lib", "main"].contains(&last.as_str())) {
                parts.pop();
            }
            let text = read(&file);
            let code = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
            (parts.join("::"), code)
        })
        .collect()
}

/// Which modules each module names by `crate::` (the longest module the path begins with), a
/// module's parts and its parent left out: a part using its parent is no circle.
fn module_uses(modules: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut edges = Vec::new();
    for (name, code) in modules {
        for (at, _) in code.match_indices("crate::") {
            let path: String =
                code[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
            let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            let target = (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| modules.contains_key(m));
            let Some(target) = target else { continue };
            let related = target == *name
                || name.starts_with(&format!("{target}::"))
                || target.starts_with(&format!("{name}::"))
                || name.is_empty();
            if !related {
                edges.push((name.clone(), target));
            }
        }
    }
    edges.sort();
    edges.dedup();
    edges
}

/// The circles among `edges`: each a set of modules that reach one another.
fn circles(edges: &[(String, String)]) -> Vec<Vec<String>> {
    let nodes: std::collections::BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let reaches = |from: &String| {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![from];
        while let Some(node) = stack.pop() {
            for (_, to) in edges.iter().filter(|(a, _)| a == node) {
                if seen.insert(to) {
                    stack.push(to);
                }
            }
        }
        seen
    };
    let mut found: Vec<Vec<String>> = Vec::new();
    for node in &nodes {
        let forward = reaches(node);
        if !forward.contains(node) {
            continue;
        }
        let mut circle: Vec<String> =
            forward.iter().filter(|other| reaches(other).contains(node)).map(|s| (*s).clone()).collect();
        circle.sort();
        if !found.contains(&circle) {
            found.push(circle);
        }
    }
    found
}

#[test]
fn no_crate_has_an_import_circle() {
    let mut problems = Vec::new();
    for group in ["crates", "services"] {
        let Ok(entries) = std::fs::read_dir(root().join(group)) else { continue };
        for entry in entries.flatten() {
            let src = entry.path().join("src");
            if !src.is_dir() {
                continue;
            }
            for circle in circles(&module_uses(&modules(&src))) {
                problems.push(format!("{}: {}", relative(&entry.path()), circle.join(" → ")));
            }
        }
    }
    assert!(problems.is_empty(), "modules that use one another in a circle:\n{}", problems.join("\n"));
}

#[test]
fn the_circle_check_finds_a_circle_and_leaves_a_chain_alone() {
    let edge = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(circles(&[edge("a", "b"), edge("b", "c")]), Vec::<Vec<String>>::new());
    assert_eq!(
        circles(&[edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("c", "d")]),
        vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]
    );
    let modules = std::collections::BTreeMap::from([
        ("proxy".to_owned(), "use crate::proxy::admit::admit;".to_owned()),
        ("proxy::admit".to_owned(), "use crate::proxy::Proxy; use crate::limits::Gate;".to_owned()),
        ("limits".to_owned(), "use crate::error::Result;".to_owned()),
        ("error".to_owned(), String::new()),
    ]);
    assert_eq!(module_uses(&modules), [edge("limits", "error"), edge("proxy::admit", "limits")]);
}

/// The longest a function of shipped code may be, in lines from its `fn` to its closing brace.
const MAX_FUNCTION_LINES: usize = 80;

/// Each function of `code` (test modules cut off) longer than `max` lines: (line, name, length).
/// A rough reader: it counts braces outside strings, chars and `//` comments, which is all the
/// fleet's code needs.
fn long_functions(code: &str, max: usize) -> Vec<(usize, String, usize)> {
    let code = code.split("#[cfg(test)]").next().unwrap_or_default();
    let lines: Vec<&str> = code.lines().collect();
    let braces = |line: &str| -> (i64, bool) {
        let (mut depth, mut opened, mut in_string, mut escaped) = (0i64, false, false, false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (in_string, c) {
                (true, '\\') if !escaped => escaped = true,
                (true, '"') if !escaped => in_string = false,
                (true, _) => escaped = false,
                (false, '"') => in_string = true,
                (false, '/') if chars.peek() == Some(&'/') => break,
                (false, '\'') => {
                    // A char literal ('{', '\'', '\n'), not a lifetime.
                    let rest: String = chars.clone().take(3).collect();
                    if rest.starts_with("\\") || rest.chars().nth(1) == Some('\'') {
                        let skip = if rest.starts_with("\\") { 3 } else { 2 };
                        (0..skip).for_each(|_| {
                            chars.next();
                        });
                    }
                }
                (false, '{') => {
                    depth += 1;
                    opened = true;
                }
                (false, '}') => depth -= 1,
                _ => {}
            }
        }
        (depth, opened)
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let signature = trimmed
            .strip_prefix("pub(crate) ")
            .or_else(|| trimmed.strip_prefix("pub(super) "))
            .or_else(|| trimmed.strip_prefix("pub "))
            .unwrap_or(trimmed);
        let signature = signature.strip_prefix("async ").unwrap_or(signature);
        let signature = signature.strip_prefix("const ").unwrap_or(signature);
        let Some(rest) = signature.strip_prefix("fn ") else {
            i += 1;
            continue;
        };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let (mut depth, mut opened) = (0i64, false);
        let mut j = i;
        while j < lines.len() {
            let (delta, opens) = braces(lines[j]);
            depth += delta;
            opened |= opens;
            if opened && depth <= 0 {
                break;
            }
            if !opened && lines[j].trim_end().ends_with(';') {
                break;
            }
            j += 1;
        }
        let length = j - i + 1;
        if opened && length > max {
            found.push((i + 1, name, length));
        }
        i = j + 1;
    }
    found
}

#[test]
fn no_function_of_shipped_code_is_longer_than_80_lines() {
    let mut problems = Vec::new();
    for group in ["crates", "services"] {
        let Ok(entries) = std::fs::read_dir(root().join(group)) else { continue };
        for entry in entries.flatten() {
            for file in rust_files(&entry.path().join("src")) {
                for (line, name, length) in long_functions(&read(&file), MAX_FUNCTION_LINES) {
                    problems.push(format!("{}:{line}: fn {name} is {length} lines", relative(&file)));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines (split them into named steps):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_length_check_measures_a_function_and_skips_braces_in_strings() {
    let code = "fn short() {\n    let _ = (\"{{{\", '{', '\\'');\n}\n\npub(crate) async fn long() {\n    one();\n    two();\n}\n";
    assert_eq!(long_functions(code, 3), [(5, "long".to_owned(), 4)]);
    assert!(long_functions(code, 4).is_empty());
    assert!(long_functions("fn declared();\nfn body() {}\n", 0).iter().all(|(_, name, _)| name == "body"));
}
