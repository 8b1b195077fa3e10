//! All of the analytics service's SQL, in its schema `analytics`: none yet.
