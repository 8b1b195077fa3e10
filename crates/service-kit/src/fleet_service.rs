//! One service of the fleet, as the compiler checks it: each service's library implements
//! [`FleetService`] on its `Service` type (its name in the fleet table, its configuration, how
//! it starts, what it runs beside its routes, the OpenAPI description of its public routes),
//! its binary runs that type ([`run_service`]), and the conformance suite takes the fleet's
//! names, documents and background parts from the types rather than from strings it spells
//! itself (and holds each started service to what its type declares).

use std::future::Future;
use std::process::ExitCode;

use crate::app::Application;
use crate::config::ConfigError;
use crate::service::{StartError, run_main};

/// A service of the fleet.
pub trait FleetService {
    /// Its row of the fleet table (`fleet::ORDER`, …).
    const NAME: &'static str;
    /// Its configuration: the shared part and its own settings.
    type Config;
    /// The configuration from the environment, every problem reported at once.
    fn config_from_env() -> Result<Self::Config, ConfigError>;
    /// Connects and migrates, starts its consumers and background jobs, binds its listener.
    fn build(config: Self::Config) -> impl Future<Output = Result<Application, StartError>>;
    /// Whether it relays an outbox of its own to its stream (`events.<name>`).
    const PRODUCES: bool = false;
    /// The event domains (streams) its consumer reads; none for a service without one.
    const CONSUMES: &'static [&'static str] = &[];
    /// Its periodic background jobs, by the names it starts them with
    /// ([`Background::every`](crate::Background::every)).
    const JOBS: &'static [&'static str] = &[];
    /// The OpenAPI description of its public routes (service paths, before `/api/v1`). A service
    /// with no public routes of its own (the gateway, which serves the merged document)
    /// describes none.
    fn openapi() -> utoipa::openapi::OpenApi {
        utoipa::openapi::OpenApiBuilder::new().build()
    }
}

/// Runs `S` as its binary does: its configuration from the environment, then the service
/// until a shutdown signal ([`run_main`]: `healthcheck`, tracing, error reports).
pub fn run_service<S: FleetService>() -> ExitCode {
    run_main(S::NAME, || async { S::build(S::config_from_env()?).await })
}

/// The OpenAPI document type, for [`fleet_service!`].
pub use utoipa::openapi::OpenApi;

/// Implements [`FleetService`] on the calling service's `Service` type from its `SERVICE`, its
/// configuration type and reader, its `build`, and what it declares of the rest (each optional):
///
/// ```ignore
/// service_kit::fleet_service!(OrderConfig, OrderConfig::from_env,
///     produces = true, consumes = events::CONSUMES, jobs = events::JOBS, openapi = openapi);
/// ```
#[macro_export]
macro_rules! fleet_service {
    ($config:ty, $from_env:path $(, $part:ident = $value:expr)* $(,)?) => {
        /// This service as the fleet knows it: its name, configuration, start, background parts
        /// and API description.
        pub struct Service;

        impl $crate::FleetService for Service {
            const NAME: &'static str = SERVICE;
            type Config = $config;

            fn config_from_env() -> Result<$config, $crate::ConfigError> {
                $from_env()
            }

            fn build(
                config: $config,
            ) -> impl ::std::future::Future<Output = Result<$crate::app::Application, $crate::StartError>> {
                build(config)
            }

            $($crate::fleet_service!(@part $part = $value);)*
        }
    };
    (@part produces = $value:expr) => {
        const PRODUCES: bool = $value;
    };
    (@part consumes = $value:expr) => {
        const CONSUMES: &'static [&'static str] = $value;
    };
    (@part jobs = $value:expr) => {
        const JOBS: &'static [&'static str] = $value;
    };
    (@part openapi = $value:expr) => {
        fn openapi() -> $crate::fleet_service::OpenApi {
            $value()
        }
    };
}
