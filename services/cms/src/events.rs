//! What the cms service emits and consumes: nothing yet. It will emit CONTENT_PUBLISHED/UNPUBLISHED.
