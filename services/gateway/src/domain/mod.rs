//! The gateway's pure rules (no HTTP types, no I/O): which public paths may be forwarded at all.

pub(crate) mod path;
