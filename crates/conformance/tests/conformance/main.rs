//! The rules every service keeps, checked against all of them (one test binary; the shutdown
//! test has its own because it signals its own process).

mod backbone;
mod background;
mod internal_client;
mod isolation;
mod openapi;
mod redis_acl;
mod signup;
mod tidy;
mod upgrade;
mod zero_trust;
