//! Integration tests of the gateway with the real auth and product services behind it.

mod attacks;
mod edge;
mod helpers;
mod identity;
mod limits;
mod proxying;
mod resilience;
mod rotation;
mod staff_matrix;
