//! The user service's use cases that write more than one statement, each in its own
//! transaction under the user's row lock (so the address book's one-default rule and the device
//! limit hold against concurrent requests of the same user): adding and changing an address,
//! registering a device. Single-statement writes and reads go from the routes to the store.

use sqlx::PgPool;
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::store::{self, Address, AddressFields, Device, MAX_DEVICES};

/// Adds an address to the user's book (a new default clears the old one).
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub(crate) async fn add_address(pool: &PgPool, user: Uuid, fields: AddressFields) -> Result<Address> {
    let mut tx = pool.begin().await?;
    let address = store::insert_address(&mut tx, user, fields).await?;
    tx.commit().await?;
    Ok(address)
}

/// Changes one of the user's addresses: `change` makes the new fields from the current address
/// (and refuses invalid ones), under the user's lock.
#[tracing::instrument(skip_all, fields(user_id = %user, address_id = %id))]
pub(crate) async fn change_address(
    pool: &PgPool,
    user: Uuid,
    id: Uuid,
    change: impl FnOnce(&Address) -> Result<AddressFields>,
) -> Result<Address> {
    let mut tx = pool.begin().await?;
    store::lock_user(&mut tx, user).await?;
    let current = store::get_address(&mut tx, user, id).await?.ok_or(ApiError::AddressNotFound)?;
    let fields = change(&current)?;
    let updated = store::update_address(&mut tx, user, id, fields).await?.ok_or(ApiError::AddressNotFound)?;
    tx.commit().await?;
    Ok(updated)
}

/// Registers a device's push token for the user (moving it from another user if it was
/// theirs); (the device, whether it is new). Only the newest [`MAX_DEVICES`] are kept.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub(crate) async fn register_device(pool: &PgPool, user: Uuid, token: &str, platform: &str) -> Result<(Device, bool)> {
    let mut tx = pool.begin().await?;
    store::lock_user(&mut tx, user).await?;
    if let Some(device) = store::own_device(&mut tx, user, token).await? {
        tx.commit().await?;
        return Ok((device, false));
    }
    let device = store::upsert_device(&mut tx, user, token, platform).await?;
    store::trim_devices(&mut tx, user, MAX_DEVICES).await?;
    tx.commit().await?;
    Ok((device, true))
}
