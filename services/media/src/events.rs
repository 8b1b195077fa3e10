//! What the media service emits and consumes: nothing yet. It will emit MEDIA_UPLOADED/DELETED.
