//! The order service's pure rules and types (no HTTP, no SQL): none yet.
