//! The inventory service's internal contract (callers: the order service only): an
//! all-or-nothing multi-line reservation idempotent by its id (the order's), its commit and its
//! release.

use internal_token::Subject;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use service_kit::InternalClient;
use service_kit::fleet::INVENTORY;
use uuid::Uuid;

use crate::CallError;
use crate::types::{OrderId, ReservationStatus, Sku};

pub const RESERVATIONS_PATH: &str = "/internal/reservations";
pub const COMMIT_PATH: &str = "/internal/reservations/{id}/commit";
pub const RELEASE_PATH: &str = "/internal/reservations/{id}/release";

/// One line to hold.
pub use crate::types::Line;

/// `POST /internal/reservations`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReserveRequest {
    /// The order's id; the same id with the same lines is the same reservation.
    pub id: OrderId,
    pub lines: Vec<Line>,
    /// How long to hold (default: the service's configured expiry, 15 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_secs: Option<u64>,
}

/// A reservation as inventory holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: OrderId,
    pub status: ReservationStatus,
    /// SKUs unique and sorted.
    pub lines: Vec<Line>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// What a reservation came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reserved {
    /// Held now (newly, or already held under this id).
    Held(Reservation),
    /// Not enough stock for these SKUs; nothing was held.
    OutOfStock(Vec<Sku>),
    /// This id's reservation was let go (swept, expired, its order ended): nothing is held
    /// under it, and the stock may have been sold to others.
    Released,
}

/// Calls the inventory service.
#[derive(Clone)]
pub struct InventoryClient {
    client: InternalClient,
}

impl InventoryClient {
    pub fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// Holds every line or none.
    pub async fn reserve(&self, request: &ReserveRequest, on_behalf: &Subject) -> Result<Reserved, CallError> {
        let response = self
            .client
            .request(Method::POST, INVENTORY, RESERVATIONS_PATH, on_behalf)
            .json(request)
            .send()
            .await
            .map_err(|source| CallError::Transport { service: INVENTORY, source })?;
        let status = response.status();
        if status.is_success() {
            let reservation: Reservation =
                response.json().await.map_err(|source| CallError::Decode { service: INVENTORY, source })?;
            // Held is what the answer says, never what its status code implies.
            return Ok(if reservation.status == ReservationStatus::Held {
                Reserved::Held(reservation)
            } else {
                Reserved::Released
            });
        }
        if status == reqwest::StatusCode::CONFLICT {
            let problem: serde_json::Value =
                response.json().await.map_err(|source| CallError::Decode { service: INVENTORY, source })?;
            let code = problem["code"].as_str().and_then(service_kit::Code::parse);
            if code == Some(service_kit::Code::OutOfStock) {
                let skus = problem["skus"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().and_then(|s| Sku::parse(s).ok()));
                return Ok(Reserved::OutOfStock(skus.collect()));
            }
            if code == Some(service_kit::Code::ReservationReleased) {
                return Ok(Reserved::Released);
            }
        }
        Err(CallError::Status { service: INVENTORY, status })
    }

    /// Lets a held reservation go (releasing a released one changes nothing).
    pub async fn release(&self, id: Uuid, on_behalf: &Subject) -> Result<(), CallError> {
        let path = RELEASE_PATH.replace("{id}", &id.to_string());
        let response = self
            .client
            .request(Method::POST, INVENTORY, &path, on_behalf)
            .send()
            .await
            .map_err(|source| CallError::Transport { service: INVENTORY, source })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(CallError::Status { service: INVENTORY, status: response.status() })
        }
    }
}
