//! All of the inventory service's SQL, in its schema `inventory`: none yet.
