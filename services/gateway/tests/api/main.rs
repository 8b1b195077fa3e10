//! Integration tests of the gateway with the real auth and product services behind it.

mod attacks;
mod helpers;
mod proxying;
