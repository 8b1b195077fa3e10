//! The bootstrap step: with an admin connection, make one login role and one schema per
//! data-owning service, each role granted nothing outside its own schema. Run by
//! `cargo xtask up`, by the testkit, and (later) by a Kubernetes Job. Idempotent.

use sqlx::AssertSqlSafe;
use sqlx::{Connection, PgConnection};

use crate::fleet::SERVICES;

/// Creates the roles (cluster-wide). `password_for` returns a role's password, or `None` for
/// clusters that authenticate loopback connections otherwise (the dev and test clusters).
pub async fn create_roles(admin: &mut PgConnection, password_for: impl Fn(&str) -> Option<String>) -> sqlx::Result<()> {
    for spec in SERVICES {
        let Some(role) = spec.db_role() else { continue };
        let exists: bool = sqlx::query_scalar("select exists(select 1 from pg_roles where rolname = $1)")
            .bind(&role)
            .fetch_one(&mut *admin)
            .await?;
        if !exists {
            sqlx::query(AssertSqlSafe(format!(
                "create role {role} login nosuperuser nocreatedb nocreaterole noinherit"
            )))
            .execute(&mut *admin)
            .await?;
        }
        if let Some(password) = password_for(spec.name) {
            // Passwords cannot be bound as parameters in DDL; quote them as a literal.
            let literal = password.replace('\'', "''");
            sqlx::query(AssertSqlSafe(format!("alter role {role} password '{literal}'"))).execute(&mut *admin).await?;
        }
    }
    Ok(())
}

/// Creates the schemas in the database `admin` is connected to, and takes away what Postgres
/// grants to everyone by default, so each role reaches only its own schema.
pub async fn create_schemas(admin: &mut PgConnection, database: &str) -> sqlx::Result<()> {
    grant_database(admin, database).await?;
    let mut tx = admin.begin().await?;
    sqlx::query("revoke all on schema public from public").execute(&mut *tx).await?;
    for spec in SERVICES {
        let (Some(schema), Some(role)) = (spec.schema_name(), spec.db_role()) else {
            continue;
        };
        sqlx::query(AssertSqlSafe(format!("create schema if not exists {schema} authorization {role}")))
            .execute(&mut *tx)
            .await?;
        sqlx::query(AssertSqlSafe(format!("alter role {role} in database \"{database}\" set search_path = {schema}")))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Database-level grants: only the service roles may connect (and nothing more: no temporary
/// tables, which no service needs; review L12). A database cloned from a template
/// does not inherit these, so they are applied to every clone too.
pub async fn grant_database(admin: &mut PgConnection, database: &str) -> sqlx::Result<()> {
    let mut tx = admin.begin().await?;
    sqlx::query(AssertSqlSafe(format!("revoke all on database \"{database}\" from public"))).execute(&mut *tx).await?;
    for spec in SERVICES {
        let Some(role) = spec.db_role() else { continue };
        sqlx::query(AssertSqlSafe(format!("grant connect on database \"{database}\" to {role}")))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
