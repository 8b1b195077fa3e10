//! One service of the fleet, as the compiler checks it: each service's library implements
//! [`FleetService`] on its `Service` type (its name in the fleet table, its configuration, how
//! it starts, the OpenAPI description of its public routes), its binary runs that type
//! ([`run_service`]), and the conformance suite takes the fleet's names and documents from the
//! types rather than from strings it spells itself.

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

/// Implements [`FleetService`] on the calling service's `Service` type from its `SERVICE`,
/// `build` and `openapi`: `fleet_service!(OrderConfig, OrderConfig::from_env);`. A service
/// without public routes of its own passes an empty block for its description:
/// `fleet_service!(GatewayConfig, GatewayConfig::from_env, {});`.
#[macro_export]
macro_rules! fleet_service {
    ($config:ty, $from_env:path) => {
        $crate::fleet_service!($config, $from_env, {
            fn openapi() -> $crate::fleet_service::OpenApi {
                openapi()
            }
        });
    };
    ($config:ty, $from_env:path, { $($openapi:item)* }) => {
        /// This service as the fleet knows it: its name, configuration, start and API description.
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

            $($openapi)*
        }
    };
}
