//! `cargo xtask keys`: DEV-ONLY key pairs under `.dev/keys` (git-ignored).

use std::path::{Path, PathBuf};

use bootstrap::keys::FleetKeys;

/// Makes the keys if missing (or always, with `force`); returns their directory.
pub(crate) fn run(root: &Path, force: bool) -> anyhow::Result<PathBuf> {
    let dir = root.join(".dev/keys");
    if !force && FleetKeys::load(&dir).is_ok() {
        // Key files added since (the payment webhook secret) are made without touching the rest.
        bootstrap::key_files(&dir, false)?;
        eprintln!("dev keys present in {}", dir.display());
        return Ok(dir);
    }
    eprintln!("making DEV-ONLY keys in {} ...", dir.display());
    FleetKeys::generate().write(&dir)?;
    if force {
        let _ = std::fs::remove_file(bootstrap::keys::s3_credentials_path(&dir));
    }
    bootstrap::keys::ensure_s3_credentials(&dir)?;
    Ok(dir)
}
