//! The search service's store: it owns no SQL schema (its index will live on local disk); none yet.
