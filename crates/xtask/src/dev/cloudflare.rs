//! `cargo xtask cloudflare-ips FILE...`: refreshes `nginx/cloudflare-ips.conf`, the ranges whose
//! `CF-Connecting-IP` NGINX believes, from the lists the operator downloads
//! (`https://www.cloudflare.com/ips-v4` and `ips-v6`: one CIDR range per line). Every line must
//! be a well-formed range; a list that shrank to nothing, or anything else in it, is refused
//! rather than written. The generated deployment files that embed the file are rewritten too.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};

pub(crate) const FILE: &str = "nginx/cloudflare-ips.conf";

/// One CIDR range, checked: an address and a prefix length that fits it, no host bits set.
pub(crate) fn parse_range(text: &str) -> anyhow::Result<String> {
    let (address, prefix) = text.split_once('/').with_context(|| format!("{text:?} is not a CIDR range"))?;
    let address: IpAddr = address.parse().with_context(|| format!("{text:?}: not an IP address"))?;
    let prefix: u8 = prefix.parse().with_context(|| format!("{text:?}: not a prefix length"))?;
    let bits = match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    ensure!(prefix <= bits, "{text:?}: a /{prefix} does not fit an address of {bits} bits");
    ensure!(prefix >= 8, "{text:?}: a range this wide is not Cloudflare's");
    let host_bits_set = match address {
        IpAddr::V4(v4) => u32::from(v4).checked_shl(u32::from(prefix)).unwrap_or(0) != 0,
        IpAddr::V6(v6) => u128::from(v6).checked_shl(u32::from(prefix)).unwrap_or(0) != 0,
    };
    ensure!(!host_bits_set, "{text:?}: host bits are set");
    Ok(format!("{address}/{prefix}"))
}

/// The ranges of the downloaded lists (blank lines and `#` comments skipped).
pub(crate) fn ranges(lists: &[String]) -> anyhow::Result<Vec<String>> {
    let mut all = Vec::new();
    for list in lists {
        for line in list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let range = parse_range(line)?;
            if !all.contains(&range) {
                all.push(range);
            }
        }
    }
    ensure!(all.iter().any(|r| !r.contains(':')), "no IPv4 range: give both ips-v4 and ips-v6");
    ensure!(all.iter().any(|r| r.contains(':')), "no IPv6 range: give both ips-v4 and ips-v6");
    Ok(all)
}

pub(crate) fn render(ranges: &[String], date: &str) -> String {
    let mut text = format!(
        "# Cloudflare's published edge ranges (https://www.cloudflare.com/ips/), refreshed {date} by\n\
         # `cargo xtask cloudflare-ips`. Only a peer inside these ranges may tell us the client's address\n\
         # in CF-Connecting-IP; anyone else's CF-Connecting-IP is ignored.\n"
    );
    for range in ranges {
        text.push_str(&format!("set_real_ip_from {range};\n"));
    }
    text
}

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    if args.is_empty() {
        bail!(
            "usage: cargo xtask cloudflare-ips ips-v4.txt ips-v6.txt\n(download https://www.cloudflare.com/ips-v4 and https://www.cloudflare.com/ips-v6 first)"
        );
    }
    let lists: Vec<String> = args
        .iter()
        .map(|path| std::fs::read_to_string(PathBuf::from(path)).with_context(|| format!("read {path}")))
        .collect::<anyhow::Result<_>>()?;
    let new = ranges(&lists)?;
    let target = root.join(FILE);
    let old: Vec<String> = std::fs::read_to_string(&target)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("set_real_ip_from ").map(|r| r.trim_end_matches(';').to_owned()))
        .collect();
    let added: Vec<&String> = new.iter().filter(|r| !old.contains(r)).collect();
    let removed: Vec<&String> = old.iter().filter(|r| !new.contains(r)).collect();
    std::fs::write(&target, render(&new, &chrono::Utc::now().format("%Y-%m-%d").to_string()))?;
    eprintln!("{FILE}: {} ranges; added {added:?}, removed {removed:?}", new.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_before_anything_is_written() {
        let lists = ["173.245.48.0/20\n103.21.244.0/22\n".to_owned(), "# v6\n2400:cb00::/32\n\n".to_owned()];
        assert_eq!(ranges(&lists).unwrap(), vec!["173.245.48.0/20", "103.21.244.0/22", "2400:cb00::/32"]);
        for bad in ["173.245.48.1/20", "173.245.48.0/33", "0.0.0.0/0", "<html>", "173.245.48.0", "2400:cb00::/200"] {
            assert!(parse_range(bad).is_err(), "{bad} passed");
        }
        assert!(ranges(&["173.245.48.0/20\n".to_owned()]).is_err(), "IPv6 missing");
        let text = render(&ranges(&lists).unwrap(), "2026-11-28");
        assert!(text.contains("set_real_ip_from 2400:cb00::/32;\n") && text.starts_with("# Cloudflare"));
    }

    #[test]
    fn the_committed_file_holds_only_well_formed_ranges() {
        let text = std::fs::read_to_string(crate::workspace_root().unwrap().join(FILE)).unwrap();
        let ranges: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("set_real_ip_from ")).collect();
        assert!(ranges.len() >= 10);
        for range in ranges {
            parse_range(range.trim_end_matches(';')).unwrap();
        }
    }
}
