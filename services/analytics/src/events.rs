//! What the analytics service emits and consumes: nothing yet. It will emit nothing, and consume the domain events of every stream, skipping secret fields.
