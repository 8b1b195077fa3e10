//! All of the order service's SQL, in its schema `orders`: none yet.
