//! The admin service's store: empty, since admin keeps no copy of the owners' data; its first table will be the audit log, still to be built.
