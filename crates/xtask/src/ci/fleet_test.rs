//! The fleet test (`cargo xtask fleet`, part of `cargo xtask test`): real binaries, real NGINX,
//! throwaway data on free ports; the walk, the crash test, and a backup of that shop restored
//! into a fresh fleet and walked again. `cargo xtask crash` runs the crash test alone.

use std::path::Path;

/// The fleet test: real binaries, real NGINX, throwaway data on free ports; the walk, then the
/// crash test, then a backup of that shop restored into a fresh fleet, walked again.
pub(crate) fn fleet_test(root: &Path) -> anyhow::Result<()> {
    let backup_dir = std::env::temp_dir().join(format!("shopfleet-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&backup_dir);
    let backup = backup_dir.clone();
    crate::dev::fleet::on_throwaway_fleet(root, "fleet-test", async |fleet| {
        crate::ci::fleet_walk::walk(fleet).await?;
        match crash_orders() {
            0 => eprintln!("    crash test skipped (CRASH_ORDERS=0)"),
            orders => crate::ci::crash::run(fleet, orders).await?,
        }
        // The walked shop, backed up with its keys (auth's sealed secrets need them).
        let summary = crate::dev::backup::backup(&fleet.admin_database_url(), &fleet.bucket_dir(), &backup).await?;
        crate::dev::backup::copy_tree(&fleet.options.keys_dir, &backup.join("keys"))?;
        let facts = crate::dev::backup::facts(&fleet.admin_database_url()).await?;
        std::fs::write(backup.join("facts.json"), serde_json::to_vec(&facts)?)?;
        eprintln!(
            "    backup of the walked shop: {} schemas, {} media objects, {facts}",
            summary["schemas"].as_object().map_or(0, |s| s.len()),
            summary["media_objects"]
        );
        Ok(())
    })?;
    let restored = crate::dev::fleet::on_fleet(
        root,
        "restore-test",
        |options| {
            options.keys_dir = backup_dir.join("keys");
            options.restore_from = Some(backup_dir.clone());
        },
        async |fleet| {
            let before: serde_json::Value = serde_json::from_slice(&std::fs::read(backup_dir.join("facts.json"))?)?;
            let after = crate::dev::backup::facts(&fleet.admin_database_url()).await?;
            anyhow::ensure!(before == after, "the restored shop differs: backed up {before}, restored {after}");
            eprintln!("    the restored shop holds what was backed up ({after}); walking it again");
            crate::ci::fleet_walk::walk(fleet).await
        },
    );
    let _ = std::fs::remove_dir_all(&backup_dir);
    restored
}

/// How many orders the crash test places (`CRASH_ORDERS`, 40).
fn crash_orders() -> usize {
    std::env::var("CRASH_ORDERS").ok().and_then(|n| n.parse().ok()).unwrap_or(40)
}

/// `cargo xtask crash`: the crash test alone, on a throwaway fleet.
pub(crate) fn crash_test(root: &Path) -> anyhow::Result<()> {
    crate::dev::fleet::on_throwaway_fleet(root, "crash-test", async |fleet| {
        crate::ci::crash::run(fleet, crash_orders().max(1)).await
    })
}
