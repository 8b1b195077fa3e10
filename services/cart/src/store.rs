//! All of the cart's storage (Redis, no database): one hash per cart, `cart:{<owner>}`, a field
//! per SKU holding `quantity|price at add|added at (ms)`, `~updated` the last change, and
//! `~merged:<guest>` markers of guest carts already folded in, `~discount` the code applied,
//! `~shipping` the shipping method chosen. Every change is one script on
//! the one key (atomic, and a single slot on Redis Cluster), and refreshes the cart's TTL. A
//! guest cart is written only when its first line arrives.

use contracts::types::{Amount, Quantity, Sku};
use std::time::Duration;

use service_kit::redis::Connection;

use crate::domain::{Owner, StoredLine};

/// What a change to a line came to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Changed {
    /// The line's quantity now.
    Quantity(i64),
    /// The cart already has as many lines as it may.
    TooManyLines,
    /// The line would hold more than a line may.
    TooMany,
    /// No such line.
    NoLine,
}

const ADD: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
local quantity = tonumber(ARGV[2])
local price = ARGV[3]
local added = ARGV[4]
if current then
  local a = string.find(current, '|', 1, true)
  local b = string.find(current, '|', a + 1, true)
  quantity = quantity + tonumber(string.sub(current, 1, a - 1))
  price = string.sub(current, a + 1, b - 1)
  added = string.sub(current, b + 1)
else
  local lines = 0
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, 1) ~= '~' then lines = lines + 1 end
  end
  if lines >= tonumber(ARGV[6]) then return -1 end
end
if quantity > tonumber(ARGV[5]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], quantity .. '|' .. price .. '|' .. added, '~updated', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return quantity
";

const SET: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -3 end
local a = string.find(current, '|', 1, true)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. string.sub(current, a), '~updated', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return tonumber(ARGV[2])
";

/// Removes the lines an order took (ARGV[2..]) that were in the cart when it was placed
/// (added at or before ARGV[1], ms): a line the shopper added again after placing the order
/// stays. The discount code and the shipping method chosen go with the ordered lines.
const REMOVE_ORDERED: &str = r"
local removed = 0
for i = 2, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value then
    local added = tonumber(string.match(value, '^[^|]*|[^|]*|([^|]*)'))
    if added == nil or added <= tonumber(ARGV[1]) then
      redis.call('HDEL', KEYS[1], ARGV[i])
      removed = removed + 1
    end
  end
end
if removed > 0 then redis.call('HDEL', KEYS[1], '~discount', '~shipping') end
return removed
";

const REMOVE: &str = r"
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return -3 end
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 1) ~= '~' then
    redis.call('HSET', KEYS[1], '~updated', ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return 0
  end
end
redis.call('DEL', KEYS[1])
return 0
";

/// Sets the `~` field ARGV[3] to ARGV[1] (the empty value removes it), refreshing the TTL.
const FIELD_SET: &str = r"
if ARGV[1] == '' then
  redis.call('HDEL', KEYS[1], ARGV[3])
else
  redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
";

/// Counts a refused discount code against a cart (KEYS[1], its own key beside the cart's,
/// living ARGV[1] ms from the first refusal); how many so far.
const DISCOUNT_REFUSED: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// How many discount codes were refused for a cart lately, and for how many ms more they count.
const DISCOUNT_REFUSALS: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
return {n, redis.call('PTTL', KEYS[1])}
";

const READ: &str = r"
local all = redis.call('HGETALL', KEYS[1])
if #all > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return all
";

const MERGE: &str = r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local lines = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, 1) ~= '~' then lines = lines + 1 end
end
local i = 6
while i + 2 <= #ARGV do
  local sku, quantity, rest = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local current = redis.call('HGET', KEYS[1], sku)
  if current then
    local a = string.find(current, '|', 1, true)
    quantity = quantity + tonumber(string.sub(current, 1, a - 1))
    rest = string.sub(current, a + 1)
  elseif lines >= tonumber(ARGV[4]) then
    quantity = 0
  else
    lines = lines + 1
  end
  if quantity > 0 then
    if quantity > tonumber(ARGV[3]) then quantity = tonumber(ARGV[3]) end
    redis.call('HSET', KEYS[1], sku, quantity .. '|' .. rest)
  end
  i = i + 3
end
redis.call('HSET', KEYS[1], ARGV[1], '1', '~updated', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
";

/// What a change may do: the line and cart limits, and the TTL it refreshes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds {
    pub max_quantity: i64,
    pub max_lines: usize,
    pub ttl: Duration,
}

/// The cart store.
#[derive(Clone)]
pub(crate) struct Carts {
    redis: Connection,
    prefix: String,
    add: redis::Script,
    set: redis::Script,
    remove: redis::Script,
    read: redis::Script,
    merge: redis::Script,
    field: redis::Script,
    discount_refused: redis::Script,
    discount_refusals: redis::Script,
    remove_ordered: redis::Script,
}

/// A cart as stored: its lines and when it last changed.
pub(crate) struct Stored {
    pub lines: Vec<StoredLine>,
    pub updated_ms: Option<i64>,
    /// The discount code applied, if any (checked again whenever the cart is shown).
    pub discount_code: Option<String>,
    /// The shipping method chosen, if any (the checkout checks it ships the order).
    pub shipping_method_id: Option<uuid::Uuid>,
}

/// The field holding a cart's discount code.
const DISCOUNT: &str = "~discount";
/// The field holding the shipping method chosen.
const SHIPPING: &str = "~shipping";

fn parse(fields: Vec<(String, String)>) -> Stored {
    let mut lines = Vec::new();
    let mut updated_ms = None;
    let mut discount_code = None;
    let mut shipping_method_id = None;
    for (field, value) in fields {
        if field == "~updated" {
            updated_ms = value.parse().ok();
            continue;
        }
        if field == DISCOUNT {
            discount_code = Some(value);
            continue;
        }
        if field == SHIPPING {
            shipping_method_id = uuid::Uuid::parse_str(&value).ok();
            continue;
        }
        if field.starts_with('~') {
            continue;
        }
        let mut parts = value.split('|');
        let (Some(q), Some(p), Some(t)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let quantity = q.parse::<i64>().ok().and_then(|q| Quantity::new(q).ok());
        if let (Ok(sku), Some(quantity), Ok(price), Ok(added_at_ms)) =
            (Sku::parse(field), quantity, p.parse(), t.parse())
        {
            lines.push(StoredLine { sku, quantity, price_at_add: Amount::new(price), added_at_ms });
        }
    }
    Stored { lines, updated_ms, discount_code, shipping_method_id }
}

fn changed(result: i64) -> Changed {
    match result {
        -1 => Changed::TooManyLines,
        -2 => Changed::TooMany,
        -3 => Changed::NoLine,
        n => Changed::Quantity(n),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Carts {
    pub(crate) fn new(redis: Connection, prefix: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            add: redis::Script::new(ADD),
            set: redis::Script::new(SET),
            remove: redis::Script::new(REMOVE),
            read: redis::Script::new(READ),
            merge: redis::Script::new(MERGE),
            field: redis::Script::new(FIELD_SET),
            discount_refused: redis::Script::new(DISCOUNT_REFUSED),
            discount_refusals: redis::Script::new(DISCOUNT_REFUSALS),
            remove_ordered: redis::Script::new(REMOVE_ORDERED),
        }
    }

    fn key(&self, owner: &Owner) -> String {
        format!("{}cart:{{{}}}", self.prefix, owner.id())
    }

    /// The cart (empty when none is stored), its TTL refreshed.
    pub(crate) async fn read(&self, owner: &Owner, ttl: Duration) -> redis::RedisResult<Stored> {
        let fields: Vec<(String, String)> =
            self.read.key(self.key(owner)).arg(ttl.as_millis() as u64).invoke_async(&mut self.redis.clone()).await?;
        Ok(parse(fields))
    }

    /// Adds `quantity` of `sku` (the price now is kept as the line's price at add).
    pub(crate) async fn add(
        &self,
        owner: &Owner,
        sku: &str,
        quantity: i64,
        price: Amount,
        bounds: Bounds,
    ) -> redis::RedisResult<Changed> {
        let result: i64 = self
            .add
            .key(self.key(owner))
            .arg(sku)
            .arg(quantity)
            .arg(price.minor())
            .arg(now_ms())
            .arg(bounds.max_quantity)
            .arg(bounds.max_lines)
            .arg(bounds.ttl.as_millis() as u64)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(changed(result))
    }

    /// Sets a line's quantity.
    pub(crate) async fn set(
        &self,
        owner: &Owner,
        sku: &str,
        quantity: i64,
        ttl: Duration,
    ) -> redis::RedisResult<Changed> {
        let result: i64 = self
            .set
            .key(self.key(owner))
            .arg(sku)
            .arg(quantity)
            .arg(now_ms())
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(changed(result))
    }

    /// Removes a line (the cart goes when its last line does).
    pub(crate) async fn remove(&self, owner: &Owner, sku: &str, ttl: Duration) -> redis::RedisResult<Changed> {
        let result: i64 = self
            .remove
            .key(self.key(owner))
            .arg(sku)
            .arg(now_ms())
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(changed(result))
    }

    /// Deletes a cart.
    pub(crate) async fn clear(&self, owner: &Owner) -> redis::RedisResult<()> {
        redis::cmd("DEL").arg(self.key(owner)).query_async(&mut self.redis.clone()).await
    }

    /// Removes these SKUs' lines and the discount code (an order placed at `placed_ms` was paid
    /// with them), except lines added after the order was placed; idempotent.
    pub(crate) async fn remove_lines(&self, owner: &Owner, skus: &[Sku], placed_ms: i64) -> redis::RedisResult<()> {
        if skus.is_empty() {
            return Ok(());
        }
        let mut invocation = self.remove_ordered.key(self.key(owner));
        invocation.arg(placed_ms);
        for sku in skus {
            invocation.arg(sku.as_str());
        }
        invocation.invoke_async::<i64>(&mut self.redis.clone()).await?;
        Ok(())
    }

    /// Applies a discount code to the cart (`None` takes it off), refreshing the TTL.
    pub(crate) async fn set_discount(
        &self,
        owner: &Owner,
        code: Option<&str>,
        ttl: Duration,
    ) -> redis::RedisResult<()> {
        self.set_field(owner, DISCOUNT, code.unwrap_or_default(), ttl).await
    }

    /// Keeps (or, with `None`, forgets) the shipping method chosen.
    pub(crate) async fn set_shipping(
        &self,
        owner: &Owner,
        method: Option<uuid::Uuid>,
        ttl: Duration,
    ) -> redis::RedisResult<()> {
        self.set_field(owner, SHIPPING, &method.map(|id| id.to_string()).unwrap_or_default(), ttl).await
    }

    /// Sets one `~` field of the cart (the empty value removes it), refreshing its TTL.
    async fn set_field(&self, owner: &Owner, field: &str, value: &str, ttl: Duration) -> redis::RedisResult<()> {
        self.field
            .key(self.key(owner))
            .arg(value)
            .arg(ttl.as_millis() as u64)
            .arg(field)
            .invoke_async::<i64>(&mut self.redis.clone())
            .await?;
        Ok(())
    }

    /// The key counting a cart's refused discount codes (the cart's hash tag, so it lives on
    /// the cart's node).
    fn refusals_key(&self, owner: &Owner) -> String {
        format!("{}cart:{{{}}}:discount-refusals", self.prefix, owner.id())
    }

    /// Counts a refused code against the cart for `window` from the first; how many so far.
    pub(crate) async fn discount_refused(&self, owner: &Owner, window: Duration) -> redis::RedisResult<i64> {
        self.discount_refused
            .key(self.refusals_key(owner))
            .arg(window.as_millis() as u64)
            .invoke_async(&mut self.redis.clone())
            .await
    }

    /// How many codes were refused for the cart lately, and how long until they stop counting.
    pub(crate) async fn discount_refusals(&self, owner: &Owner) -> redis::RedisResult<(i64, Duration)> {
        let (count, ttl_ms): (i64, i64) =
            self.discount_refusals.key(self.refusals_key(owner)).invoke_async(&mut self.redis.clone()).await?;
        Ok((count, Duration::from_millis(ttl_ms.max(0) as u64)))
    }

    /// Folds a guest cart into a user's (quantities added, capped), then deletes the guest
    /// cart. Idempotent: the user's cart remembers which guest cart it took, so a retry after a
    /// failure between the two steps adds nothing twice.
    pub(crate) async fn merge(&self, guest: &Owner, user: &Owner, bounds: Bounds) -> redis::RedisResult<()> {
        let stored = self.read(guest, bounds.ttl).await?;
        let mut invocation = self.merge.key(self.key(user));
        invocation
            .arg(format!("~merged:{}", guest.id()))
            .arg(now_ms())
            .arg(bounds.max_quantity)
            .arg(bounds.max_lines)
            .arg(bounds.ttl.as_millis() as u64);
        for line in &stored.lines {
            invocation
                .arg(line.sku.as_str())
                .arg(line.quantity.get())
                .arg(format!("{}|{}", line.price_at_add, line.added_at_ms));
        }
        invocation.invoke_async::<i64>(&mut self.redis.clone()).await?;
        // A code the guest applied comes along unless the shopper's cart has one.
        if let Some(code) = &stored.discount_code
            && self.read(user, bounds.ttl).await?.discount_code.is_none()
        {
            self.set_discount(user, Some(code), bounds.ttl).await?;
        }
        self.clear(guest).await
    }
}
