//! All of the cms service's SQL, in its schema `cms`: none yet.
