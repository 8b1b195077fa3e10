//! Operations on a running shop's data: the checkout's invariants across schemas (`audit`).

pub(crate) mod audit;
