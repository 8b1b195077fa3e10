//! The inventory service's pure rules and types (no HTTP, no SQL): none yet.
