//! Empty: a build script makes cargo resolve this crate's build dependencies (feature
//! unification of the host build).

fn main() {}
