//! The admin service's store: it owns no SQL schema yet (the audit log's arrives with its issue); none yet.
