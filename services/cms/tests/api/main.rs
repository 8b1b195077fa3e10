//! The cms service's integration tests: one binary (link time on two cores).

mod helpers;
mod menus;
mod pages;
mod schedule;
