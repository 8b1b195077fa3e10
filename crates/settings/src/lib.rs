//! Every setting of the fleet, declared once: the environment variable's name, what applies
//! when it is unset, whether it is a secret, the values it may take and one line of doc.
//!
//! The services read their configuration only through these declarations (service-kit's
//! `EnvReader` takes a [`Setting`], never a name), xtask builds the dev, compose and Kubernetes
//! environments from them, and the README's settings table is generated from them (with a drift
//! test), so a variable is spelled in exactly one place and a setting nobody documented cannot
//! exist. This crate has no dependencies: the kit, the observability crate, the bootstrap and
//! xtask all use it.

pub mod bootstrap;
pub mod service;
pub mod shared;
pub mod site;

/// What applies when a variable is unset (or empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnset {
    /// The service refuses to start and says which variable is missing.
    Required,
    /// Nothing: the feature it configures is off.
    Off,
    /// This value, parsed like a given one.
    Value(&'static str),
    /// A value worked out at start; the words say how.
    Computed(&'static str),
}

/// One environment variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The variable. `<NAME>` stands for a service's upper-case name in a family of variables
    /// (`<NAME>_URL`).
    pub name: &'static str,
    pub when_unset: WhenUnset,
    /// A secret: it may instead be given in the file `<name>_FILE` names (how containers mount
    /// secrets), and it is never logged.
    pub secret: bool,
    /// The values it may take, when they are a fixed list.
    pub choices: &'static [&'static str],
    /// What it does, one line.
    pub doc: &'static str,
}

impl Setting {
    const fn new(name: &'static str, when_unset: WhenUnset, doc: &'static str) -> Self {
        Self { name, when_unset, secret: false, choices: &[], doc }
    }

    /// A setting with a default value.
    pub const fn value(name: &'static str, default: &'static str, doc: &'static str) -> Self {
        Self::new(name, WhenUnset::Value(default), doc)
    }

    /// A setting that must be given.
    pub const fn required(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, WhenUnset::Required, doc)
    }

    /// A setting whose absence turns something off.
    pub const fn optional(name: &'static str, doc: &'static str) -> Self {
        Self::new(name, WhenUnset::Off, doc)
    }

    /// A setting whose default is worked out at start (`how` says how).
    pub const fn computed(name: &'static str, how: &'static str, doc: &'static str) -> Self {
        Self::new(name, WhenUnset::Computed(how), doc)
    }

    /// The same setting, secret.
    pub const fn secret(self) -> Self {
        Self { secret: true, ..self }
    }

    /// The same setting, limited to `choices`.
    pub const fn choices(self, choices: &'static [&'static str]) -> Self {
        Self { choices, ..self }
    }

    /// The default value, when there is one.
    pub fn default_value(&self) -> Option<&'static str> {
        match self.when_unset {
            WhenUnset::Value(value) => Some(value),
            _ => None,
        }
    }

    /// The variable a secret's file is named in.
    pub fn file_variable(&self) -> String {
        format!("{}_FILE", self.name)
    }

    /// The variable of a family for one service (`<NAME>_URL` for `order` is `ORDER_URL`).
    pub fn for_service(&self, service: &str) -> String {
        self.name.replace("<NAME>", &service.to_ascii_uppercase())
    }
}

/// Who reads a setting: every service, one or several of them, or the bootstrap.
pub type Readers = &'static [&'static str];

/// Every setting a service (or the bootstrap) reads: the shared ones and its own.
pub fn of(reader: &str) -> Vec<&'static Setting> {
    let own = service::OWN.iter().find(|(name, _)| *name == reader).map(|(_, own)| *own);
    let shared: &[&Setting] = if reader == bootstrap::NAME { &[] } else { shared::ALL };
    shared.iter().chain(own.unwrap_or(&[])).copied().collect()
}

/// Whether `variable` is one `reader` reads (a secret's `_FILE` counts, and a family's member).
pub fn reads(reader: &str, variable: &str) -> bool {
    of(reader).iter().any(|s| {
        variable == s.name
            || (s.secret && variable == s.file_variable())
            || (s.name.contains("<NAME>") && family_member(s.name, variable))
    })
}

fn family_member(pattern: &str, variable: &str) -> bool {
    let (prefix, suffix) = pattern.split_once("<NAME>").expect("a family");
    variable.len() > prefix.len() + suffix.len()
        && variable.starts_with(prefix)
        && variable.ends_with(suffix)
        && variable[prefix.len()..variable.len() - suffix.len()].bytes().all(|b| b.is_ascii_uppercase())
}

/// Every declared setting once, with who reads it, in the README's order: the shared ones, then
/// each service's own, then the bootstrap's.
pub fn table() -> Vec<(&'static Setting, Vec<&'static str>)> {
    let mut rows: Vec<(&'static Setting, Vec<&'static str>)> = Vec::new();
    let mut add =
        |setting: &'static Setting, reader: &'static str| match rows.iter_mut().find(|(s, _)| s.name == setting.name) {
            Some((_, readers)) => readers.push(reader),
            None => rows.push((setting, vec![reader])),
        };
    for setting in shared::ALL {
        add(setting, "every service");
    }
    for (service, own) in service::OWN {
        for setting in *own {
            add(setting, service);
        }
    }
    rows
}

/// The README's settings table (markdown), generated: `cargo xtask settings` writes it between
/// its markers and a test fails when the README's copy differs.
pub fn markdown() -> String {
    let mut out = String::from("| variable | when unset | read by | meaning |\n|---|---|---|---|\n");
    for (setting, readers) in table() {
        let name = if setting.secret {
            format!("`{}` (or `{}`)", setting.name, setting.file_variable())
        } else {
            format!("`{}`", setting.name)
        };
        let unset = match setting.when_unset {
            WhenUnset::Required => "required".to_owned(),
            WhenUnset::Off => "—".to_owned(),
            WhenUnset::Value("") => "empty".to_owned(),
            WhenUnset::Value(value) => format!("`{value}`"),
            WhenUnset::Computed(how) => how.to_owned(),
        };
        let mut doc = setting.doc.to_owned();
        if !setting.choices.is_empty() {
            let choices: Vec<String> = setting.choices.iter().map(|c| format!("`{c}`")).collect();
            doc.push_str(&format!(" (one of {})", choices.join(", ")));
        }
        if setting.secret {
            doc.push_str(" Secret.");
        }
        out.push_str(&format!("| {name} | {unset} | {} | {} |\n", readers.join(", "), doc.replace('|', "\\|")));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_variable_is_declared_once_and_documented() {
        let mut seen = BTreeSet::new();
        let all = shared::ALL.iter().chain(service::OWN.iter().flat_map(|(_, own)| own.iter()));
        let mut declared: Vec<&Setting> = all.copied().collect();
        declared.sort_by_key(|s| s.name);
        declared.dedup_by_key(|s| s.name);
        for setting in declared {
            assert!(seen.insert(setting.name), "{} declared twice", setting.name);
            assert!(
                setting.name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                    || setting.name.contains("<NAME>"),
                "{} is not an environment variable's name",
                setting.name
            );
            assert!(setting.doc.len() > 10, "{} has no doc", setting.name);
            if let Some(default) = setting.default_value()
                && !setting.choices.is_empty()
            {
                assert!(setting.choices.contains(&default), "{}'s default is not a choice", setting.name);
            }
        }
        // One declaration per name, even where several services read it.
        let mut by_name = std::collections::BTreeMap::new();
        for setting in shared::ALL.iter().chain(service::OWN.iter().flat_map(|(_, own)| own.iter())) {
            let previous = by_name.insert(setting.name, **setting);
            assert!(previous.is_none_or(|p| p == **setting), "{} has two declarations", setting.name);
        }
    }

    #[test]
    fn a_reader_reads_its_own_and_the_shared_settings_and_a_secrets_file() {
        assert!(reads("payment", "PAYMENT_PROVIDER"));
        assert!(reads("payment", "BIND_ADDR"));
        assert!(reads("payment", "DATABASE_PASSWORD_FILE"));
        assert!(reads("payment", "ORDER_URL"));
        assert!(!reads("payment", "ORDER_url"));
        assert!(!reads("payment", "_URL"));
        assert!(!reads("payment", "CART_MAX_LINES"));
        assert!(!reads("payment", "PAYMENT_PROVIDER_FILE"), "not a secret");
        assert!(reads(bootstrap::NAME, "KEYS_DIR"));
        assert!(!reads(bootstrap::NAME, "BIND_ADDR"));
    }

    #[test]
    fn the_table_lists_every_setting_once_with_its_readers() {
        let table = table();
        let storefront = table.iter().find(|(s, _)| s.name == site::STOREFRONT_URL.name).unwrap();
        assert_eq!(storefront.1, ["notification", "cms"]);
        let text = markdown();
        assert_eq!(text.matches("| `STOREFRONT_URL` |").count(), 1);
        assert!(text.contains("`AWS_SECRET_ACCESS_KEY` (or `AWS_SECRET_ACCESS_KEY_FILE`)"));
    }
}
