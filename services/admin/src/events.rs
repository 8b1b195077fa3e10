//! What the admin service emits and consumes: nothing so far. Its consumer of every owner's AUDIT_RECORDED (the audit log) is still to be built.
