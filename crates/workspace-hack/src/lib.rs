//! Feature unification only: this crate has no code (see its Cargo.toml).
