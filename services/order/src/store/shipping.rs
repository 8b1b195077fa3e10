//! The statements of shipping zones and methods (schema `orders`): staff CRUD, and the methods
//! a country gets (its zones' methods; the rest of the world's where no zone names it), in the
//! order staff set. `app::shipping` puts them together in transactions; what a method costs is
//! `domain::shipping`.

use chrono::{DateTime, Utc};
use contracts::types::Amount;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::shipping::{MethodRule, PriceRule};

/// A shipping zone: the countries its methods ship to.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct ZoneView {
    pub id: Uuid,
    pub name: String,
    /// ISO 3166-1 alpha-2 codes; `["*"]` is the rest of the world (every country no other zone
    /// names).
    pub countries: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ZONE: &str = "id, name, countries, created_at, updated_at";

/// A shipping method as staff see it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub(crate) struct MethodView {
    pub id: Uuid,
    pub zone_id: Uuid,
    pub name: String,
    pub carrier: String,
    /// The delivery estimate, in days.
    pub min_days: i32,
    pub max_days: i32,
    #[schema(value_type = PriceRule)]
    pub price: Json<PriceRule>,
    /// Free from this subtotal (after discount) on.
    pub free_from_minor: Option<Amount>,
    pub active: bool,
    pub active_from: Option<DateTime<Utc>>,
    pub active_until: Option<DateTime<Utc>>,
    /// The order shoppers see the zone's methods in; the first that ships an order is the
    /// default of a checkout that chose none.
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MethodView {
    /// What prices it and says when it is offered.
    pub(crate) fn rule(&self) -> MethodRule {
        MethodRule {
            price: self.price.0.clone(),
            free_from_minor: self.free_from_minor.map(Amount::minor),
            active: self.active,
            active_from: self.active_from,
            active_until: self.active_until,
        }
    }
}

const METHOD: &str = "id, zone_id, name, carrier, min_days, max_days, price, free_from_minor, active, active_from, \
     active_until, position, created_at, updated_at";

/// A zone's fields (create and change alike: the whole zone).
pub(crate) struct ZoneFields<'a> {
    pub name: &'a str,
    pub countries: &'a [String],
}

/// A method's fields (create and change alike: the whole method).
pub(crate) struct MethodFields<'a> {
    pub zone_id: Uuid,
    pub name: &'a str,
    pub carrier: &'a str,
    pub min_days: i32,
    pub max_days: i32,
    pub price: &'a PriceRule,
    pub free_from_minor: Option<i64>,
    pub active: bool,
    pub active_from: Option<DateTime<Utc>>,
    pub active_until: Option<DateTime<Utc>>,
    pub position: i32,
}

pub(crate) async fn zones(pool: &PgPool) -> sqlx::Result<Vec<ZoneView>> {
    let sql = format!("select {ZONE} from shipping_zones order by name, id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await
}

pub(crate) async fn zone(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ZoneView>> {
    let sql = format!("select {ZONE} from shipping_zones where id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await
}

pub(crate) async fn insert_zone(tx: &mut PgConnection, zone: &ZoneFields<'_>) -> sqlx::Result<ZoneView> {
    let sql = format!("insert into shipping_zones (id, name, countries) values ($1, $2, $3) returning {ZONE}");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::now_v7())
        .bind(zone.name)
        .bind(zone.countries)
        .fetch_one(&mut *tx)
        .await
}

/// Locks a zone for a change; it as it was.
pub(crate) async fn lock_zone(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ZoneView>> {
    let sql = format!("select {ZONE} from shipping_zones where id = $1 for update");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await
}

pub(crate) async fn update_zone(tx: &mut PgConnection, id: Uuid, zone: &ZoneFields<'_>) -> sqlx::Result<ZoneView> {
    let sql = format!(
        "update shipping_zones set name = $2, countries = $3, updated_at = now() where id = $1 returning {ZONE}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(zone.name).bind(zone.countries).fetch_one(&mut *tx).await
}

/// Deletes a zone and its methods (orders keep their snapshots).
pub(crate) async fn delete_zone(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from shipping_zones where id = $1").bind(id).execute(&mut *tx).await?;
    Ok(())
}

/// Every method, by zone and position.
pub(crate) async fn methods(pool: &PgPool) -> sqlx::Result<Vec<MethodView>> {
    let sql = format!("select {METHOD} from shipping_methods order by zone_id, position, id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await
}

pub(crate) async fn method(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<MethodView>> {
    let sql = format!("select {METHOD} from shipping_methods where id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await
}

/// Locks a method for a change; it as it was.
pub(crate) async fn lock_method(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<MethodView>> {
    let sql = format!("select {METHOD} from shipping_methods where id = $1 for update");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await
}

pub(crate) async fn insert_method(tx: &mut PgConnection, m: &MethodFields<'_>) -> sqlx::Result<MethodView> {
    let sql = format!(
        "insert into shipping_methods (id, zone_id, name, carrier, min_days, max_days, price, free_from_minor, active, \
           active_from, active_until, position) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         returning {METHOD}"
    );
    bind_method(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(Uuid::now_v7()), m).fetch_one(&mut *tx).await
}

pub(crate) async fn update_method(tx: &mut PgConnection, id: Uuid, m: &MethodFields<'_>) -> sqlx::Result<MethodView> {
    let sql = format!(
        "update shipping_methods set zone_id = $2, name = $3, carrier = $4, min_days = $5, max_days = $6, price = $7, \
           free_from_minor = $8, active = $9, active_from = $10, active_until = $11, position = $12, updated_at = now() \
         where id = $1 returning {METHOD}"
    );
    bind_method(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id), m).fetch_one(&mut *tx).await
}

type MethodQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Postgres, MethodView, sqlx::postgres::PgArguments>;

/// Binds `$2`… of an insert or update of a method (`$1` is its id).
fn bind_method<'q>(query: MethodQuery<'q>, m: &MethodFields<'q>) -> MethodQuery<'q> {
    query
        .bind(m.zone_id)
        .bind(m.name)
        .bind(m.carrier)
        .bind(m.min_days)
        .bind(m.max_days)
        .bind(Json(m.price.clone()))
        .bind(m.free_from_minor)
        .bind(m.active)
        .bind(m.active_from)
        .bind(m.active_until)
        .bind(m.position)
}

pub(crate) async fn delete_method(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from shipping_methods where id = $1").bind(id).execute(&mut *tx).await?;
    Ok(())
}

/// The methods that ship to `country`, whether offered now or not, in the order shoppers see
/// them: those of every zone naming it, else the rest of the world's.
pub(crate) async fn methods_for(conn: &mut PgConnection, country: &str) -> sqlx::Result<Vec<MethodView>> {
    let sql = format!(
        "select {METHOD} from shipping_methods where zone_id in ( \
           select id from shipping_zones where $1 = any(countries) \
           union all \
           select id from shipping_zones where countries = array['*'] \
             and not exists (select 1 from shipping_zones z where $1 = any(z.countries))) \
         order by position, name, id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(country).fetch_all(&mut *conn).await
}

/// The countries some method offered now ships to, in order, and whether the rest of the world
/// has one too.
pub(crate) async fn countries_served(pool: &PgPool) -> sqlx::Result<(Vec<String>, bool)> {
    let offered = "exists (select 1 from shipping_methods m where m.zone_id = z.id and m.active \
         and (m.active_from is null or m.active_from <= now()) and (m.active_until is null or now() < m.active_until))";
    let sql = format!(
        "select coalesce(array_agg(distinct c order by c) filter (where c <> '*'), '{{}}'), coalesce(bool_or(c = '*'), false) \
         from shipping_zones z, unnest(z.countries) c where {offered}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await
}
