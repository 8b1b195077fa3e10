//! All of the media service's SQL, in its schema `media`: none yet.
