//! What the admin service emits and consumes: nothing yet. It will emit nothing, and consume AUDIT_RECORDED from every owner.
