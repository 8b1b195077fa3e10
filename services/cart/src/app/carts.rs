//! What a shopper does with a cart, each use case on one cart (`Owner`) with its lifetime
//! (`ttl`, refreshed on use), answering the cart as it is afterwards.

use std::time::Duration;

use contracts::cart::{CartLine, UserCart};
use contracts::order::{QuoteLine, QuoteRequest};
use contracts::types::{Amount, Quantity, Sku};
use service_kit::{FieldCode, FieldErrors};

use super::AppState;
use crate::domain::{Cart, CartDiscount, Owner, render};
use crate::error::{ApiError, Result};
use crate::store::{Bounds, Changed};

/// How many refused discount codes a cart may try within `REFUSED_CODES_WINDOW`.
const MAX_REFUSED_CODES: i64 = 5;
const REFUSED_CODES_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A guest's new, empty cart (nothing is stored until its first line).
pub(crate) fn empty(state: &AppState) -> Cart {
    render(Vec::new(), &[], None, state.currency)
}

/// The stored cart at current prices (before its discount is checked), its discount code and
/// the variants it was priced with.
async fn priced(
    state: &AppState,
    owner: &Owner,
    ttl: Duration,
) -> Result<(Cart, Option<String>, Vec<contracts::product::VariantInfo>)> {
    let stored = state.carts.read(owner, ttl).await?;
    let skus: Vec<Sku> = stored.lines.iter().map(|l| l.sku.clone()).collect();
    let variants = state.prices.of(&skus).await?;
    let mut cart = render(stored.lines, &variants, stored.updated_ms, state.currency);
    cart.shipping_method_id = stored.shipping_method_id;
    Ok((cart, stored.discount_code, variants))
}

/// The cart as shown: stored lines with current prices, and its discount code checked and
/// priced now.
#[tracing::instrument(skip_all, fields(cart = %owner.id()))]
pub(crate) async fn show(state: &AppState, owner: &Owner, ttl: Duration) -> Result<Cart> {
    let (cart, discount_code, _) = priced(state, owner, ttl).await?;
    let discount = match discount_code {
        None => None,
        Some(code) => Some(match quote(state, owner, &code, &cart).await {
            Ok(quote) => {
                CartDiscount { code: quote.code, discount_minor: quote.discount_minor, refusal: quote.refusal }
            }
            Err(error) => {
                // The cart still shows; the order checks the code again at checkout.
                tracing::warn!(error = %service_kit::Chain(&error), "a discount code could not be checked");
                let refusal = Some("the discount cannot be checked right now".to_owned());
                CartDiscount { code, discount_minor: Amount::ZERO, refusal }
            }
        }),
    };
    Ok(cart.with_discount(discount))
}

/// The cart's available lines as the order service prices them.
fn quote_lines(cart: &Cart) -> Vec<QuoteLine> {
    cart.lines
        .iter()
        .filter(|l| l.available)
        .map(|l| QuoteLine {
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit_price_minor: l.unit_price_minor,
            // A quote takes no tax (no address yet).
            tax_class: "standard".to_owned(),
        })
        .collect()
}

/// The owner's user id (a guest has none).
fn user_of(owner: &Owner) -> Option<contracts::types::UserId> {
    match owner {
        Owner::User(id) => Some((*id).into()),
        Owner::Guest(_) => None,
    }
}

/// What `code` takes off the cart's available lines for its owner.
async fn quote(
    state: &AppState,
    owner: &Owner,
    code: &str,
    cart: &Cart,
) -> std::result::Result<contracts::order::Quote, contracts::CallError> {
    let request = QuoteRequest { code: code.to_owned(), user_id: user_of(owner), lines: quote_lines(cart) };
    state.orders.quote(&request, &internal_token::Subject::anonymous()).await
}

/// A line holds 1 to the line limit.
fn check_quantity(state: &AppState, quantity: Quantity) -> Result<()> {
    let max = state.limits.max_line_quantity;
    if (1..=max).contains(&quantity.get()) {
        return Ok(());
    }
    let mut errors = FieldErrors::default();
    errors.push("quantity", FieldCode::OutOfRange, format!("a quantity is 1 to {max}"));
    Ok(errors.finish()?)
}

/// What a change of the stored lines came to.
fn applied(state: &AppState, changed: Changed) -> Result<()> {
    match changed {
        Changed::Quantity(_) => Ok(()),
        Changed::TooMany => Err(ApiError::Limit(format!("a line holds at most {}", state.limits.max_line_quantity))),
        Changed::TooManyLines => Err(ApiError::Limit(format!("a cart holds at most {} lines", state.limits.max_lines))),
        Changed::NoLine => Err(ApiError::NotFound),
    }
}

/// Adds `quantity` of the SKU written `sku` (on sale and in stock, at its price now).
#[tracing::instrument(skip_all, fields(cart = %owner.id(), sku = %sku))]
pub(crate) async fn add(state: &AppState, owner: &Owner, ttl: Duration, sku: &str, quantity: Quantity) -> Result<Cart> {
    check_quantity(state, quantity)?;
    // Text that is no SKU is no SKU on sale.
    let sku = Sku::parse(sku.trim()).map_err(|_| ApiError::UnknownSku(sku.trim().to_owned()))?;
    let variant = state
        .prices
        .of(std::slice::from_ref(&sku))
        .await?
        .into_iter()
        .find(|v| v.purchasable)
        .ok_or_else(|| ApiError::UnknownSku(sku.to_string()))?;
    if !variant.in_stock {
        return Err(ApiError::OutOfStock(sku));
    }
    let bounds = Bounds { max_quantity: state.limits.max_line_quantity, max_lines: state.limits.max_lines, ttl };
    let changed = state.carts.add(owner, sku.as_str(), quantity.get(), variant.price_minor, bounds).await?;
    applied(state, changed)?;
    show(state, owner, ttl).await
}

/// Sets a line's quantity.
#[tracing::instrument(skip_all, fields(cart = %owner.id(), sku = %sku))]
pub(crate) async fn set(state: &AppState, owner: &Owner, ttl: Duration, sku: &str, quantity: Quantity) -> Result<Cart> {
    check_quantity(state, quantity)?;
    applied(state, state.carts.set(owner, sku, quantity.get(), ttl).await?)?;
    show(state, owner, ttl).await
}

/// Removes a line.
#[tracing::instrument(skip_all, fields(cart = %owner.id(), sku = %sku))]
pub(crate) async fn remove(state: &AppState, owner: &Owner, ttl: Duration, sku: &str) -> Result<Cart> {
    applied(state, state.carts.remove(owner, sku, ttl).await?)?;
    show(state, owner, ttl).await
}

/// A signed-in shopper's cart as stored, for their checkout (a checkout is a use: the TTL is
/// refreshed). The order service prices it itself.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub(crate) async fn of_user(state: &AppState, user_id: uuid::Uuid) -> Result<UserCart> {
    let stored = state.carts.read(&Owner::User(user_id), state.limits.user_ttl).await?;
    let lines = stored
        .lines
        .into_iter()
        .map(|l| CartLine { sku: l.sku, quantity: l.quantity, price_at_add_minor: l.price_at_add })
        .collect();
    Ok(UserCart {
        user_id: user_id.into(),
        lines,
        discount_code: stored.discount_code,
        shipping_method_id: stored.shipping_method_id,
    })
}

/// Empties the cart.
#[tracing::instrument(skip_all, fields(cart = %owner.id()))]
pub(crate) async fn clear(state: &AppState, owner: &Owner) -> Result<()> {
    Ok(state.carts.clear(owner).await?)
}

/// Folds the guest cart into the shopper's (quantities added, capped; retrying adds nothing
/// twice).
#[tracing::instrument(skip_all, fields(cart = %user.id(), guest = %guest.id()))]
pub(crate) async fn merge(state: &AppState, guest: &Owner, user: &Owner) -> Result<Cart> {
    let limits = &state.limits;
    let bounds = Bounds { max_quantity: limits.max_line_quantity, max_lines: limits.max_lines, ttl: limits.user_ttl };
    state.carts.merge(guest, user, bounds).await?;
    show(state, user, limits.user_ttl).await
}

/// Applies a discount code: checked now against the cart by the order service, a few refusals
/// per cart and quarter hour (review f5592e3 L2: the answers were an oracle for private codes).
#[tracing::instrument(skip_all, fields(cart = %owner.id()))]
pub(crate) async fn apply_discount(state: &AppState, owner: &Owner, ttl: Duration, code: &str) -> Result<Cart> {
    let code = code.trim();
    if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        let mut errors = FieldErrors::default();
        errors.push("code", FieldCode::InvalidValue, "a discount code is 1 to 32 letters, digits, - or _");
        errors.finish()?;
    }
    let (refused, left) = state.carts.discount_refusals(owner).await?;
    if refused >= MAX_REFUSED_CODES {
        return Err(ApiError::DiscountTries(left.as_secs().max(1)));
    }
    let cart = show(state, owner, ttl).await?;
    let quote = quote(state, owner, code, &cart).await?;
    if let Some(refusal) = quote.refusal {
        state.carts.discount_refused(owner, REFUSED_CODES_WINDOW).await?;
        return Err(ApiError::DiscountInvalid(refusal));
    }
    state.carts.set_discount(owner, Some(&quote.code), ttl).await?;
    let discount = CartDiscount { code: quote.code, discount_minor: quote.discount_minor, refusal: None };
    Ok(cart.with_discount(Some(discount)))
}

/// The shipping methods that ship the cart's available lines to `country` now, each priced for
/// it (after its discount) by the order service, in the shop's order.
#[tracing::instrument(skip_all, fields(cart = %owner.id(), country = %country))]
pub(crate) async fn shipping_methods(
    state: &AppState,
    owner: &Owner,
    ttl: Duration,
    country: &str,
) -> Result<Vec<contracts::order::ShippingOffer>> {
    let (cart, discount_code, variants) = priced(state, owner, ttl).await?;
    let available = cart.lines.iter().filter(|l| l.available).map(|l| (&l.sku, l.quantity));
    let weight_grams = contracts::product::total_weight_grams(available, &variants);
    let request = contracts::order::OffersRequest {
        country: country.to_owned(),
        lines: quote_lines(&cart),
        weight_grams,
        code: discount_code,
        user_id: user_of(owner),
    };
    Ok(state.orders.shipping_offers(&request).await?.items)
}

/// Keeps the shipping method chosen (`None`: forgets it); the checkout checks that it ships the
/// order to its address.
#[tracing::instrument(skip_all, fields(cart = %owner.id()))]
pub(crate) async fn choose_shipping(
    state: &AppState,
    owner: &Owner,
    ttl: Duration,
    method: Option<uuid::Uuid>,
) -> Result<Cart> {
    state.carts.set_shipping(owner, method, ttl).await?;
    show(state, owner, ttl).await
}

/// Takes the discount code off.
#[tracing::instrument(skip_all, fields(cart = %owner.id()))]
pub(crate) async fn remove_discount(state: &AppState, owner: &Owner, ttl: Duration) -> Result<Cart> {
    state.carts.set_discount(owner, None, ttl).await?;
    show(state, owner, ttl).await
}
