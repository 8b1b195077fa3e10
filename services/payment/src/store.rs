//! All of the payment service's SQL, in its schema `payments`: none yet.
