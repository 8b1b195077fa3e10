//! The service kit: what every Shopfleet service is built on, so that each service crate holds
//! only its domain. Typed configuration from the environment, problem+json errors, the Postgres
//! pool (own role, own schema, own migrations), Redis, graceful shutdown, the internal HTTP
//! client, and the router shape every service shares (operational routes open, everything else
//! behind an internal token).

pub mod app;
pub mod background;
pub mod bootstrap;
pub mod client;
pub mod clock;
pub mod conditional;
pub mod config;
pub mod db;
pub mod env;
mod event_wiring;
pub mod fleet;
pub mod fleet_service;
pub mod headers;
pub mod health;
pub mod healthcheck;
pub mod idempotency;
pub mod net;
pub mod redis;
pub mod redis_acl;
pub mod service;
pub mod shutdown;

pub use app::{Application, ServiceRouter};
pub use client::InternalClient;
pub use clock::Clock;
pub use config::{ConfigError, EnvReader, ServiceConfig, ShopEnv};
pub use fleet::{SERVICES, ServiceSpec};
pub use fleet_service::{FleetService, run_service};
pub use problem::openapi as problem_schema;
pub use problem::{
    Chain, Code, Constraint, FieldCode, FieldError, FieldErrors, Json, OptionalJson, Permission, Problem, Query,
    StaffRole,
};
pub use service::{Background, Context, NoDatabase, NoRedis, Redis, StartError, run_command, run_main};
pub use tokio;
