//! Placing an order (DESIGN §7, step 1): claim the Idempotency-Key, read the cart, the current
//! prices, the address and the contact (synchronous reads), reserve the stock (the one
//! synchronous write, idempotent by the order's id), price it with the one totals function,
//! then write the order and ORDER_CREATED in one transaction. If that last step fails, the
//! reservation is an orphan that inventory's sweeper releases; a retry with the same key
//! resumes under the same order id (refused as `reservation_released` once the sweep let it
//! go). A shopper holds only so much unpaid (`domain::Limits`: checked before reserving, and
//! again under a per-shopper lock in the order's transaction), and a new order's deadline is
//! the short unpaid hold until a payment is started.

use contracts::inventory::{Line, ReserveRequest, Reserved};
use contracts::types::{Amount, MAX_PRICE, Sku};
use contracts::user::PostalAddress;
use events::catalog::{OrderCreated, OrderLine};
use internal_token::Subject;
use uuid::Uuid;

use super::AppState;
use crate::domain::{PricedLine, totals};
use crate::error::{ApiError, Result};
use crate::store::{self, NewLine, NewOrder, OrderView, ShippingSnapshot};

/// The largest subtotal one order may have (a thousand of the largest prices), far inside
/// `i64` for every sum the totals function makes of it.
const MAX_ORDER_MINOR: i64 = 1_000 * MAX_PRICE.minor();

/// What claiming an Idempotency-Key found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// First use: go ahead, making the order with this id.
    New(Uuid),
    /// The same request was completed: answer with this order.
    Done(Uuid),
    /// The same request was started long ago and never finished (a crash): go ahead again
    /// with the same order id (its reservation is idempotent by it).
    Resume(Uuid),
    /// The same request is being processed right now.
    InFlight,
    /// The key was used for a different request.
    Reused,
}

/// Where the order goes: one of the shopper's saved addresses, or one typed in (checked and
/// normalized by the route, as the address book keeps it).
pub(crate) enum ShipTo {
    Saved(Uuid),
    Typed(PostalAddress),
}

/// Where and how the order goes: the address, and the shipping method chosen (none: the first
/// that ships the order to that address).
pub(crate) struct Destination {
    pub ship_to: ShipTo,
    pub method: Option<Uuid>,
    /// Where the invoice goes; `None`: the shipping address.
    pub bill_to: Option<ShipTo>,
    /// The buyer's VAT ID, checked and normalized.
    pub vat_id: Option<String>,
}

/// Claims `key` of `user_id` for a request with `hash`; an unfinished request older than
/// `in_flight` (its process died) may be resumed under the same order id.
async fn claim_key(state: &AppState, user_id: Uuid, key: &str, hash: &str) -> sqlx::Result<Claim> {
    let mut tx = state.pool.begin().await?;
    if let Some(order_id) = store::insert_key(&mut tx, user_id, key, hash, Uuid::now_v7()).await? {
        tx.commit().await?;
        return Ok(Claim::New(order_id));
    }
    let (stored_hash, order_id, key_state, stale) = store::lock_key(&mut tx, user_id, key, state.key_in_flight).await?;
    let claim = if stored_hash != hash {
        Claim::Reused
    } else if key_state == "done" {
        Claim::Done(order_id)
    } else if stale {
        store::touch_key(&mut tx, user_id, key).await?;
        Claim::Resume(order_id)
    } else {
        Claim::InFlight
    };
    tx.commit().await?;
    Ok(claim)
}

/// Whether the order was made now, or found from an earlier identical request.
pub(crate) enum Placed {
    Created(OrderView),
    Replayed(OrderView),
}

/// Places the shopper's cart as an order under `key` (`request_hash`: the request's
/// fingerprint, so a reused key with another request is refused).
#[tracing::instrument(skip_all, fields(user_id = %user_id, order_id = tracing::field::Empty))]
pub(crate) async fn place(
    state: &AppState,
    subject: &Subject,
    user_id: Uuid,
    key: &str,
    request_hash: &str,
    destination: &Destination,
) -> Result<Placed> {
    if !subject.email_verified {
        return Err(ApiError::EmailUnverified);
    }
    let order_id = match claim_key(state, user_id, key, request_hash).await? {
        Claim::Reused => return Err(ApiError::KeyReused),
        Claim::InFlight => return Err(ApiError::KeyInUse),
        Claim::Done(id) => {
            let order = store::find(&state.pool, id, Some(user_id)).await?.ok_or(ApiError::OrderNotFound)?;
            return Ok(Placed::Replayed(order));
        }
        Claim::New(id) | Claim::Resume(id) => id,
    };
    tracing::Span::current().record("order_id", tracing::field::display(order_id));
    match make(state, user_id, order_id, key, destination).await {
        Ok(order) => Ok(Placed::Created(order)),
        Err(error) => {
            if error.made_nothing() {
                store::forget_key(&state.pool, user_id, key).await?;
            }
            Err(error)
        }
    }
}

async fn make(
    state: &AppState,
    user_id: Uuid,
    order_id: Uuid,
    key: &str,
    destination: &Destination,
) -> Result<OrderView> {
    let cart = state.cart.user_cart(user_id).await?;
    if cart.lines.is_empty() {
        return Err(ApiError::CartEmpty);
    }
    // What the shopper already holds unpaid, before anything is reserved (checked once more
    // when the order is written, against checkouts racing this one).
    check_limits(&mut *state.pool.acquire().await?, state, user_id, &cart).await?;
    let address = resolve(state, user_id, &destination.ship_to, "shipping_address_id").await?;
    let billing = match &destination.bill_to {
        Some(bill_to) => resolve(state, user_id, bill_to, "billing_address_id").await?,
        None => address.clone(),
    };
    let email = state.users.contact(user_id).await?.and_then(|c| c.email).ok_or(ApiError::EmailUnverified)?;
    let skus: Vec<Sku> = cart.lines.iter().map(|l| l.sku.clone()).collect();
    let variants = state.products.variants(&skus).await?;
    let unsold: Vec<Sku> =
        skus.iter().filter(|sku| !variants.iter().any(|v| &v.sku == *sku && v.purchasable)).cloned().collect();
    if !unsold.is_empty() {
        return Err(ApiError::OutOfStock(unsold));
    }
    // Checked: prices are bounded (`contracts::types::MAX_PRICE`), and a sum that would wrap is
    // refused rather than sold for what it wrapped to.
    let subtotal = cart
        .lines
        .iter()
        .try_fold(Amount::ZERO, |sum, line| {
            let unit = variants.iter().find(|v| v.sku == line.sku).map_or(Amount::ZERO, |v| v.price_minor);
            sum.checked_add(unit.times(line.quantity)?)
        })
        .ok()
        .map(Amount::minor)
        .filter(|subtotal| *subtotal <= MAX_ORDER_MINOR)
        .ok_or(ApiError::AmountOutOfRange)?;
    // The code's use is counted first (once per order id, so a retry counts it once); every
    // failure after it gives it back.
    let discount = match &cart.discount_code {
        None => None,
        Some(code) => match super::discounts::claim(&state.pool, code, user_id, order_id, subtotal).await? {
            Ok(discount) => Some(discount),
            Err(refusal) => return Err(ApiError::DiscountInvalid(refusal)),
        },
    };
    let method = destination.method.or(cart.shipping_method_id);
    let gathered = Gathered {
        cart: &cart,
        variants: &variants,
        address: &address,
        billing: &billing,
        vat_id: destination.vat_id.as_deref(),
        email: &email,
        discount,
        method,
    };
    let made = reserve_and_write(state, user_id, order_id, key, gathered).await;
    if made.is_err() && discount.is_some() {
        // Given back unless the order was written after all (a failure after its commit).
        super::discounts::release_unwritten(&state.pool, order_id).await?;
    }
    made
}

/// The address `to` names: one of the shopper's saved ones (else 422 on `field`), or as typed.
async fn resolve(state: &AppState, user_id: Uuid, to: &ShipTo, field: &'static str) -> Result<PostalAddress> {
    match to {
        ShipTo::Saved(id) => state.users.address(user_id, *id).await?.ok_or(ApiError::UnknownAddress(field)),
        ShipTo::Typed(address) => Ok(address.clone()),
    }
}

/// The shopper's holdings against the limits.
async fn check_limits(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    user_id: Uuid,
    cart: &contracts::cart::UserCart,
) -> Result<()> {
    let lines: Vec<(String, i64)> = cart.lines.iter().map(|l| (l.sku.to_string(), l.quantity.get())).collect();
    let skus: Vec<String> = lines.iter().map(|(sku, _)| sku.clone()).collect();
    let (open, units) = store::unpaid_holdings(conn, user_id, &skus).await?;
    state.limits.check(open, &lines, &units).map_err(ApiError::Limit)
}

/// What the checkout read before reserving.
struct Gathered<'a> {
    cart: &'a contracts::cart::UserCart,
    variants: &'a [contracts::product::VariantInfo],
    address: &'a PostalAddress,
    billing: &'a PostalAddress,
    vat_id: Option<&'a str>,
    email: &'a str,
    discount: Option<crate::domain::Discount>,
    /// The shipping method chosen, if one was.
    method: Option<Uuid>,
}

/// Holds every line's stock under the order's id (idempotent by it).
async fn reserve(state: &AppState, order_id: Uuid, cart: &contracts::cart::UserCart) -> Result<()> {
    let request = ReserveRequest {
        id: order_id.into(),
        lines: cart.lines.iter().map(|l| Line { sku: l.sku.clone(), quantity: l.quantity }).collect(),
        // Held a little beyond the payment deadline: the order decides expiry and releases it.
        hold_secs: Some(state.payment_window.as_secs() + 300),
    };
    match state.inventory.reserve(&request, &Subject::anonymous()).await? {
        Reserved::Held(_) => Ok(()),
        Reserved::OutOfStock(skus) => Err(ApiError::OutOfStock(skus)),
        // A resumed checkout whose hold was swept: a refusal that frees the key, never an order
        // on stock that is not held.
        Reserved::Released => Err(ApiError::ReservationReleased),
    }
}

/// The cart's lines at their current prices, each with its title (every line's variant was
/// found on sale before).
fn priced_lines(
    cart: &contracts::cart::UserCart,
    variants: &[contracts::product::VariantInfo],
) -> Vec<(PricedLine, String)> {
    cart.lines
        .iter()
        .filter_map(|line| {
            let variant = variants.iter().find(|v| v.sku == line.sku)?;
            let priced = PricedLine {
                sku: line.sku.clone(),
                quantity: line.quantity,
                unit_price_minor: variant.price_minor,
                tax_class: variant.tax_class.clone(),
            };
            Some((priced, variant.title.clone()))
        })
        .collect()
}

/// The order's lines to write: each priced line with its share of the discount and its tax.
fn new_lines(priced: &[(PricedLine, String)], totals: &crate::domain::Totals) -> Vec<NewLine> {
    priced
        .iter()
        .enumerate()
        .map(|(i, (line, title))| NewLine {
            sku: line.sku.clone(),
            title: title.clone(),
            quantity: line.quantity,
            unit_price_minor: line.unit_price_minor,
            discount_minor: totals.line_discount_minor[i],
            tax_minor: totals.line_tax_minor[i],
            tax_rate_bp: totals.line_rate_bp[i],
        })
        .collect()
}

/// Prices the order with the one totals function and its shipping method (a method that does
/// not ship it is refused before anything is held), reserves the stock and writes the order
/// with ORDER_CREATED in one transaction.
async fn reserve_and_write(
    state: &AppState,
    user_id: Uuid,
    order_id: Uuid,
    key: &str,
    gathered: Gathered<'_>,
) -> Result<OrderView> {
    let Gathered { cart, variants, address, billing, vat_id, email, discount, method } = gathered;
    let priced = priced_lines(cart, variants);
    let lines: Vec<PricedLine> = priced.iter().map(|(line, _)| line.clone()).collect();
    let pricing = super::taxes::pricing_for(&state.pool, &address.country).await?;
    let unshipped = totals(&lines, discount, &pricing);
    let weight = contracts::product::total_weight_grams(cart.lines.iter().map(|l| (&l.sku, l.quantity)), variants);
    let (totals, method) = super::shipping::ship(&state.pool, unshipped, &address.country, method, weight).await?;
    reserve(state, order_id, cart).await?;
    let order = NewOrder {
        id: order_id,
        user_id,
        currency: state.currency,
        totals: &totals,
        lines: new_lines(&priced, &totals),
        shipping_address: serde_json::to_value(address).expect("an address serializes"),
        billing_address: serde_json::to_value(billing).expect("an address serializes"),
        vat_id,
        tax_rate_bp: totals.standard_rate_bp,
        shipping_tax_minor: totals.shipping_tax_minor,
        contact_email: email,
        deadline_secs: state.unpaid_hold.as_secs_f64(),
        idempotency_key: key,
        discount_code: cart.discount_code.as_deref(),
        shipping_method: ShippingSnapshot::of(&method),
    };
    let mut tx = state.pool.begin().await?;
    store::lock_shopper(&mut tx, user_id).await?;
    if let Err(refused) = check_limits(&mut tx, state, user_id, cart).await {
        // A checkout of the same shopper got there first: this one holds nothing.
        drop(tx);
        if let Err(error) = state.inventory.release(order_id, &Subject::anonymous()).await {
            tracing::warn!(%order_id, error = %service_kit::Chain(&error), "a refused checkout's reservation is left to the orphan sweep");
        }
        return Err(refused);
    }
    let (number, payment_deadline) = store::insert_order(&mut tx, &order).await?;
    let lines = priced
        .into_iter()
        .map(|(l, title)| OrderLine { sku: l.sku, quantity: l.quantity, unit_price_minor: l.unit_price_minor, title })
        .collect();
    let total_minor = Amount::new(totals.total_minor);
    let event = OrderCreated {
        order_id: order_id.into(),
        number,
        user_id: user_id.into(),
        email: email.to_owned(),
        lines,
        total_minor,
        currency: state.currency,
        payment_deadline,
    };
    events::enqueue(&mut tx, crate::SERVICE, &event).await?;
    tx.commit().await?;
    store::find(&state.pool, order_id, Some(user_id)).await?.ok_or(ApiError::OrderNotFound)
}
