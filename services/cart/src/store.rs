//! The cart service's store: its Redis keys (it owns no SQL schema); none yet.
