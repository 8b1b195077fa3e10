//! Operations on a running shop's data: backup and restore (`backup`), the checkout's invariants across schemas (`audit`).

pub(crate) mod audit;
pub(crate) mod backup;
