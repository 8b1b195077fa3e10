//! Customers and orders as the back office composes them from their owners (auth, order,
//! payment), each call made as the staff member so every owner checks the permission again.

use contracts::auth::Account;
use contracts::order::{OrderDetail, OrdersPage};
use contracts::payment::PaymentRecord;
use internal_token::Subject;
use service_kit::{Problem, StaffRole};
use uuid::Uuid;

use super::AppState;
use crate::error::{ApiError, Result};

/// A customer's account, or 404 `not_found` saying what named none; a staff member's account
/// is no customer's (staff are under `/admin/staff`).
fn only_customers(account: Option<Account>, named_by: &str) -> Result<Account> {
    match account {
        Some(account) if StaffRole::parse(&account.role).is_none() => Ok(account),
        _ => Err(ApiError::Problem(Problem::not_found(format!("no customer with this {named_by}")))),
    }
}

/// A customer's account by id.
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn customer(state: &AppState, staff: &Subject, id: Uuid) -> Result<Account> {
    only_customers(state.auth.account(staff, id).await?, "id")
}

/// A customer's account by email.
#[tracing::instrument(skip_all)]
pub(crate) async fn customer_by_email(state: &AppState, staff: &Subject, email: &str) -> Result<Account> {
    only_customers(state.auth.account_by_email(staff, email).await?, "email")
}

/// A page of a customer's orders (`limit` and `cursor` as the order service reads them).
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn customer_orders(
    state: &AppState,
    staff: &Subject,
    id: Uuid,
    (limit, cursor): (Option<&str>, Option<&str>),
) -> Result<OrdersPage> {
    let account = customer(state, staff, id).await?;
    Ok(state.orders.orders_of(staff, account.id.into(), limit, cursor).await?)
}

/// Disables a customer's account (every session ends; the reason is kept).
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn disable_customer(state: &AppState, staff: &Subject, id: Uuid, reason: &str) -> Result<Account> {
    let account = customer(state, staff, id).await?;
    Ok(state.auth.disable(staff, account.id.into(), reason).await?)
}

/// Enables a disabled customer's account.
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn enable_customer(state: &AppState, staff: &Subject, id: Uuid) -> Result<Account> {
    let account = customer(state, staff, id).await?;
    Ok(state.auth.enable(staff, account.id.into()).await?)
}

/// An order with its timeline and its payment (with refunds), read at once.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub(crate) async fn order(state: &AppState, staff: &Subject, id: Uuid) -> Result<(OrderDetail, Option<PaymentRecord>)> {
    let (detail, payment) = tokio::try_join!(state.orders.detail(staff, id), state.payments.for_order(staff, id))?;
    let detail = detail.ok_or_else(|| ApiError::Problem(Problem::not_found("no order with this id")))?;
    Ok((detail, payment))
}
