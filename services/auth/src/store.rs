//! SQL of accounts.

use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::Email;

/// What login needs of an account.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
    pub role: String,
}

pub enum InsertOutcome {
    Created(Uuid),
    EmailTaken,
}

#[tracing::instrument(skip_all)]
pub async fn insert_user(
    pool: &PgPool,
    email: &Email,
    password_hash: &str,
) -> sqlx::Result<InsertOutcome> {
    let id = Uuid::now_v7();
    let result = sqlx::query("insert into users (id, email, password_hash) values ($1, $2, $3)")
        .bind(id)
        .bind(email.as_str())
        .bind(password_hash)
        .execute(pool)
        .await;
    match result {
        Ok(_) => Ok(InsertOutcome::Created(id)),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("users_email_key") => {
            Ok(InsertOutcome::EmailTaken)
        }
        Err(e) => Err(e),
    }
}

#[tracing::instrument(skip_all)]
pub async fn credentials(pool: &PgPool, email: &Email) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as::<_, Credentials>("select id, password_hash, role from users where email = $1")
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
}
