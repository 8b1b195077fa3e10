//! Sessions: the one module that issues what a sign-in or a refresh hands out (a refresh-token
//! family per login, rotation with reuse detection, the access token, the refresh cookie's
//! settings) and ends sessions (logout, logout everywhere, password change). Routes call it and
//! render the [`Opened`] it returns once.

use std::sync::Arc;

use axum::http::HeaderValue;
use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use service_kit::redis::Connection;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::{ApiError, Result};
use crate::one_time;
use crate::store::{self, sessions::SessionView};
use crate::tokens::TokenIssuer;

/// Lifetimes of refresh tokens.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RefreshPolicy {
    /// Each token's lifetime; refreshing slides it (for administrators: the idle timeout).
    pub ttl_secs: i64,
    /// No login lasts longer than this, however often it is refreshed.
    pub absolute_secs: i64,
}

/// How sessions live: customers' and administrators' (hours, not months: review M5), and how
/// long a just-rotated refresh token may still be presented (two tabs refreshing at once: L2).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionPolicy {
    pub customer: RefreshPolicy,
    pub admin: RefreshPolicy,
    pub reuse_grace_secs: i64,
}

impl SessionPolicy {
    fn refresh(&self, admin: bool) -> RefreshPolicy {
        if admin { self.admin } else { self.customer }
    }
}

/// The name of the HttpOnly cookie that carries the refresh token for the storefront. The
/// `__Host-` prefix makes a browser refuse it unless it is Secure, host-only and for `/`, so no
/// sibling subdomain can plant one (review L5).
pub(crate) const REFRESH_COOKIE: &str = "__Host-shopfleet_refresh";

/// Where a refresh token was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Presented {
    Body,
    Cookie,
}

/// Who opens a session, as the gateway reports it (recorded with the session for its owner to see).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Client<'a> {
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

impl Client<'_> {
    /// The client's network for per-client limits: the address, or the /64 of an IPv6 one.
    pub(crate) fn network(&self) -> Option<String> {
        self.ip.and_then(|ip| ip.parse().ok()).map(service_kit::net::client_network)
    }
}

/// What a sign-in or a refresh hands out.
pub(crate) struct Opened {
    /// An administrator's session: its refresh token travels only in the HttpOnly cookie.
    pub admin: bool,
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    pub refresh_token: String,
    /// Seconds the refresh token lives.
    pub refresh_expires_in: i64,
}

/// Issues and ends sessions.
pub(crate) struct Sessions {
    pool: PgPool,
    policy: SessionPolicy,
    tokens: Arc<TokenIssuer>,
    redis: Connection,
    /// Prefix of the Redis keys shared with the gateway (the revocation list).
    key_prefix: String,
    cookie_secure: bool,
}

impl Sessions {
    pub(crate) fn new(
        pool: PgPool,
        policy: SessionPolicy,
        tokens: Arc<TokenIssuer>,
        redis: Connection,
        key_prefix: String,
        cookie_secure: bool,
    ) -> Self {
        Self { pool, policy, tokens, redis, key_prefix, cookie_secure }
    }

    pub(crate) fn tokens(&self) -> &TokenIssuer {
        &self.tokens
    }

    /// Opens a session for an account whose credentials were checked: a new refresh family and
    /// an access token. `admin` sessions (opened with a second factor) carry the staff role.
    pub(crate) async fn open(&self, account: &store::Credentials, admin: bool, client: Client<'_>) -> Result<Opened> {
        let role = if admin { store::staff_role(&account.role) } else { None };
        let family_id = Uuid::now_v7();
        let user_agent = client.user_agent.map(|ua| ua.chars().take(200).collect::<String>());
        let mut tx = self.pool.begin().await?;
        store::sessions::insert_family(
            &mut tx,
            family_id,
            account.id,
            self.policy.refresh(admin).absolute_secs,
            user_agent.as_deref(),
            client.ip,
            admin,
        )
        .await?;
        let refresh = self.issue_refresh(&mut tx, family_id, admin).await?;
        tx.commit().await?;
        tracing::info!(user_id = %account.id, session = %family_id, admin, "logged in");
        Ok(self.opened(account.id, role, account.email_verified, family_id, admin, refresh))
    }

    /// Rotates a refresh token: it dies and a new pair is issued. Presenting a token that was
    /// already rotated revokes its whole family. The token and its family are locked for the
    /// transaction, so two concurrent refreshes with one token cannot both succeed.
    pub(crate) async fn refresh(&self, token: &str, presented: Presented) -> Result<Opened> {
        let token_hash = one_time::hash(token);
        let mut tx = self.pool.begin().await?;
        let row = store::sessions::lock_token(&mut tx, &token_hash, self.policy.reuse_grace_secs)
            .await?
            .ok_or(ApiError::RefreshTokenInvalid)?;
        if row.revoked || (row.admin && presented != Presented::Cookie) {
            // An administrator's refresh token is only ever in the HttpOnly cookie (review M5).
            return Err(ApiError::RefreshTokenInvalid);
        }
        if row.expired {
            return Err(ApiError::RefreshTokenExpired);
        }
        if row.rotated && !row.rotated_recently {
            store::sessions::revoke_family_by_id(&mut tx, row.family_id, "reuse_detected").await?;
            tx.commit().await?;
            // The session's access tokens die too, the thief's among them (review L2).
            self.revoke_session_tokens(row.user_id, &row.family_id.to_string()).await?;
            tracing::warn!(security_event = "refresh_token_reuse", user_id = %row.user_id, session = %row.family_id,
                "a rotated refresh token was presented again; the session is revoked");
            return Err(ApiError::RefreshTokenReused);
        }
        // Within the grace a rotated token is a second tab refreshing at the same moment: it gets
        // a token of its own in the same family; the first successor stays valid.
        if !row.rotated {
            store::sessions::mark_rotated(&mut tx, &token_hash, row.family_id).await?;
        }
        let refresh = self.issue_refresh(&mut tx, row.family_id, row.admin).await?;
        let account = store::account(&mut tx, row.user_id).await?.ok_or(ApiError::RefreshTokenInvalid)?;
        if account.disabled {
            // Disabling ends every session; this only closes the gap of a refresh racing it.
            return Err(ApiError::RefreshTokenInvalid);
        }
        tx.commit().await?;
        // Staff tokens only come from sessions opened with a second factor, and carry the role
        // the account has now (a changed role shows at the next refresh).
        let role = if row.admin { account.staff_role } else { None };
        Ok(self.opened(row.user_id, role, account.email_verified, row.family_id, row.admin, refresh))
    }

    async fn issue_refresh(
        &self,
        tx: &mut PgConnection,
        family_id: Uuid,
        admin: bool,
    ) -> Result<(String, DateTime<Utc>)> {
        let (token, hash) = one_time::generate();
        let ttl = self.policy.refresh(admin).ttl_secs;
        let expires_at = store::sessions::insert_token(tx, family_id, &hash, ttl).await?;
        Ok((token, expires_at))
    }

    fn opened(
        &self,
        user_id: Uuid,
        role: Option<problem::StaffRole>,
        email_verified: bool,
        family_id: Uuid,
        admin: bool,
        (refresh_token, refresh_expires_at): (String, DateTime<Utc>),
    ) -> Opened {
        let (access_token, expires_in) = self.tokens.issue(user_id, role, email_verified, Some(family_id));
        let refresh_expires_in = (refresh_expires_at - Utc::now()).num_seconds().max(0);
        Opened { admin, access_token, expires_in, refresh_token, refresh_expires_in }
    }

    /// Ends one session: its refresh family and, at once, its access tokens (this call's
    /// included).
    pub(crate) async fn logout(&self, user_id: Uuid, session: &internal_token::Session) -> Result<()> {
        if let Some(family) = session.sid.as_deref().and_then(|s| Uuid::parse_str(s).ok()) {
            store::sessions::revoke_family(&self.pool, user_id, family, "logout").await?;
            self.revoke_session_tokens(user_id, &family.to_string()).await?;
        }
        self.revoke_access_token(user_id, session).await?;
        tracing::info!(%user_id, "logged out");
        Ok(())
    }

    /// Ends every session of the user and every access token issued so far.
    pub(crate) async fn logout_all(&self, user_id: Uuid, session: &internal_token::Session) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let revoked = store::sessions::revoke_all(&mut tx, user_id, "logout_all").await?;
        // Redis first (review L12): a failure leaves the sessions as they were and says so.
        self.revoke_user_tokens(user_id).await?;
        self.revoke_access_token(user_id, session).await?;
        tx.commit().await?;
        tracing::info!(%user_id, sessions = revoked, "logged out everywhere");
        Ok(())
    }

    /// Revokes every refresh family of the user inside the caller's transaction (a password
    /// change); call [`Sessions::revoke_user_tokens`] after it commits.
    pub(crate) async fn revoke_all_in(&self, tx: &mut PgConnection, user_id: Uuid, reason: &str) -> Result<u64> {
        Ok(store::sessions::revoke_all(tx, user_id, reason).await?)
    }

    /// Every access token of the user issued up to now (to the millisecond: the cutoff compares
    /// with the token's `iat_ms`) is refused from now on.
    pub(crate) async fn revoke_user_tokens(&self, user_id: Uuid) -> Result<()> {
        let now = Utc::now().timestamp_millis();
        let key = auth_jwt::revocation::user_key(&self.key_prefix, &user_id.to_string());
        let ttl = self.tokens.longest_lifetime_secs() + auth_jwt::DEFAULT_LEEWAY_SECS;
        let mut redis = self.redis.clone();
        redis.set_ex::<_, _, ()>(key, now, ttl).await?;
        Ok(())
    }

    /// Every access token of the session `sid` is refused from now on (until the longest would
    /// have expired anyway).
    pub(crate) async fn revoke_session_tokens(&self, user_id: Uuid, sid: &str) -> Result<()> {
        let key = auth_jwt::revocation::session_key(&self.key_prefix, &user_id.to_string(), sid);
        let ttl = self.tokens.longest_lifetime_secs() + auth_jwt::DEFAULT_LEEWAY_SECS;
        let mut redis = self.redis.clone();
        redis.set_ex::<_, _, ()>(key, 1, ttl).await?;
        Ok(())
    }

    /// Puts an access token on the revocation list until it would have expired anyway.
    async fn revoke_access_token(&self, user_id: Uuid, session: &internal_token::Session) -> Result<()> {
        let now = Utc::now().timestamp().max(0) as u64;
        // A little past `exp`, for the verifiers' clock leeway.
        let ttl = session.exp.saturating_sub(now) + auth_jwt::DEFAULT_LEEWAY_SECS;
        let key = auth_jwt::revocation::token_key(&self.key_prefix, &user_id.to_string(), &session.jti);
        let mut redis = self.redis.clone();
        redis.set_ex::<_, _, ()>(key, 1, ttl).await?;
        Ok(())
    }

    /// The user's active logins, the one with id `current` marked.
    pub(crate) async fn list(&self, user_id: Uuid, current: Option<&str>) -> Result<Vec<SessionView>> {
        let mut items = store::sessions::active(&self.pool, user_id).await?;
        for item in &mut items {
            item.current = current == Some(item.id.to_string().as_str());
        }
        Ok(items)
    }

    /// The refresh token as a `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict
    /// (no other site's page sends it), `__Host-` (Secure, host-only, `Path=/`); `max_age` 0
    /// clears it. The gateway hands cookies to the auth service only.
    pub(crate) fn refresh_cookie(&self, token: &str, max_age: i64) -> HeaderValue {
        let secure = if self.cookie_secure { "; Secure" } else { "" };
        let value = format!("{REFRESH_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
        HeaderValue::from_str(&value).expect("tokens are base64url")
    }
}

/// How long ended sessions and spent one-time tokens are kept before they are deleted.
const KEEP_ENDED_SECS: i64 = 24 * 3600;

/// Deletes what ended more than a day ago: sessions (with their tokens) and one-time tokens.
pub(crate) async fn prune_now(pool: &PgPool) -> sqlx::Result<u64> {
    store::prune_expired(pool, KEEP_ENDED_SECS).await
}

/// Deletes ended sessions and spent one-time tokens every hour until `stop` (review L12: they
/// were never pruned).
pub(crate) fn spawn_pruner(pool: PgPool, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {
                    match prune_now(&pool).await {
                        Ok(deleted) => tracing::info!(deleted, "ended sessions and spent one-time tokens pruned"),
                        Err(error) => tracing::warn!(error = %service_kit::Chain(&error), "pruning sessions failed"),
                    }
                }
            }
        }
    })
}
