//! The admin service's integration tests: one binary (link time on two cores).

mod audit;
mod back_office;
mod dashboard;
