//! The registry of error codes: every `code` a Shopfleet service sends in a problem+json body,
//! and every `code` of a field error, with its HTTP status and what it means. A code that is not
//! here cannot be sent (the constructors of `Problem` and `FieldError` take these enums), and the
//! tidy test fails on a code a test expects that the registry does not hold.

use axum::http::StatusCode;

/// Declares the problem codes: `Variant = ("snake_case", STATUS) "meaning"`.
macro_rules! problem_codes {
    ($($variant:ident = ($code:literal, $status:ident) $meaning:literal,)*) => {
        /// A problem's stable, machine-readable code: what the storefront branches on.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $(#[doc = $meaning] $variant,)*
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The snake_case form sent in `code` and in the `type` URN.
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The HTTP status a problem with this code answers.
            pub const fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::$status,)* }
            }

            /// One line for humans (and the OpenAPI spec) on what the code means.
            pub const fn meaning(self) -> &'static str {
                match self { $(Code::$variant => $meaning,)* }
            }
        }
    };
}

/// Declares the field-error codes: `Variant = "snake_case" "meaning"`.
macro_rules! field_codes {
    ($($variant:ident = $code:literal $meaning:literal,)*) => {
        /// Why one field of a request is invalid (inside a 422 `validation_failed`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum FieldCode {
            $(#[doc = $meaning] $variant,)*
        }

        impl FieldCode {
            /// Every field code, in registry order.
            pub const ALL: &'static [FieldCode] = &[$(FieldCode::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self { $(FieldCode::$variant => $code,)* }
            }

            pub const fn meaning(self) -> &'static str {
                match self { $(FieldCode::$variant => $meaning,)* }
            }
        }
    };
}

problem_codes! {
    // Reading the request.
    MalformedJson = ("malformed_json", BAD_REQUEST) "The body is not valid JSON.",
    MalformedQuery = ("malformed_query", BAD_REQUEST) "The query string cannot be read.",
    UnreadableBody = ("unreadable_body", BAD_REQUEST) "The request body could not be read.",
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE) "The body's Content-Type is not one the route takes (JSON), or an uploaded file is not of a type it takes (its bytes decide, not its declared type).",
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE) "The request body is larger than the route accepts.",
    ValidationFailed = ("validation_failed", UNPROCESSABLE_ENTITY) "Some fields are invalid; `errors` names each with its own code.",
    NotFound = ("not_found", NOT_FOUND) "No such resource or route (also for another user's resource).",
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED) "The route exists but does not take this method.",

    // Who the caller is.
    TokenMissing = ("token_missing", UNAUTHORIZED) "The route needs an access token and none was sent.",
    TokenMalformed = ("token_malformed", UNAUTHORIZED) "The token is not a well-formed JWT or bearer credential.",
    TokenAlgorithmNotAllowed = ("token_algorithm_not_allowed", UNAUTHORIZED) "The token is not signed with RS256.",
    TokenWrongType = ("token_wrong_type", UNAUTHORIZED) "The token is of another kind (an internal token outside, or the reverse).",
    TokenUnknownKey = ("token_unknown_key", UNAUTHORIZED) "The token's key id is not among the published keys.",
    TokenInvalidSignature = ("token_invalid_signature", UNAUTHORIZED) "The token's signature does not verify.",
    TokenExpired = ("token_expired", UNAUTHORIZED) "The token has expired; refresh the session.",
    TokenNotYetValid = ("token_not_yet_valid", UNAUTHORIZED) "The token's `nbf` is in the future.",
    TokenWrongAudience = ("token_wrong_audience", UNAUTHORIZED) "The token is addressed to someone else.",
    TokenWrongIssuer = ("token_wrong_issuer", UNAUTHORIZED) "The token's issuer may not call this route.",
    TokenMissingClaim = ("token_missing_claim", UNAUTHORIZED) "The token lacks a required claim.",
    TokenLifetimeTooLong = ("token_lifetime_too_long", UNAUTHORIZED) "The token lives longer than its kind may.",
    TokenInvalidSubject = ("token_invalid_subject", UNAUTHORIZED) "The token's subject is not a user of this shop.",
    TokenRevoked = ("token_revoked", UNAUTHORIZED) "The token was revoked (logout, password change).",
    Forbidden = ("forbidden", FORBIDDEN) "Authenticated, but not allowed (a permission or origin is missing).",
    AccountDisabled = ("account_disabled", FORBIDDEN) "The account is disabled by the shop's staff: no sign-in until it is enabled again.",

    // Accounts and sessions.
    EmailTaken = ("email_taken", CONFLICT) "An account with this email already exists.",
    InvalidCredentials = ("invalid_credentials", UNAUTHORIZED) "The email, password or second-factor code is wrong.",
    TooManyAttempts = ("too_many_attempts", TOO_MANY_REQUESTS) "Too many failed sign-ins; wait for Retry-After.",
    RefreshTokenMissing = ("refresh_token_missing", UNAUTHORIZED) "No refresh token in the body or the cookie.",
    RefreshTokenInvalid = ("refresh_token_invalid", UNAUTHORIZED) "The refresh token is not one this service issued, or its session ended.",
    RefreshTokenReused = ("refresh_token_reused", UNAUTHORIZED) "A used refresh token was presented again; its whole session is revoked.",
    RefreshTokenExpired = ("refresh_token_expired", UNAUTHORIZED) "The session has expired; sign in again.",

    // The catalog and stock.
    SlugTaken = ("slug_taken", CONFLICT) "Another product, category or content page already has this slug.",
    SkuTaken = ("sku_taken", CONFLICT) "Another variant already has this SKU.",
    ReviewExists = ("review_exists", CONFLICT) "You have reviewed this product already; change or remove that review instead.",
    OutOfStock = ("out_of_stock", CONFLICT) "Not enough stock for some SKUs (`skus` names them); nothing was held.",
    ReservationConflict = ("reservation_conflict", CONFLICT) "This reservation id is already used for other lines, or the reservation is no longer held.",
    ReservationReleased = ("reservation_released", CONFLICT) "The stock this checkout held was let go (it waited too long); nothing was ordered: start the checkout again with a new Idempotency-Key.",

    // Media.
    UploadMissing = ("upload_missing", CONFLICT) "Nothing has been uploaded to the presigned URL yet (or the upload expired); upload, then complete.",
    ImageRejected = ("image_rejected", UNPROCESSABLE_ENTITY) "The uploaded image cannot be used: undecodable, too many pixels (a decompression bomb), or not the size declared; `detail` says which.",

    // Content.
    StaleRevision = ("stale_revision", PRECONDITION_FAILED) "`If-Match` names a revision that is no longer current: someone else changed it meanwhile; reload, reapply, retry.",
    NotPublished = ("not_published", CONFLICT) "The page has no live version (nothing to take down), or nothing to publish.",

    // Checkout.
    EmailUnverified = ("email_unverified", FORBIDDEN) "Confirm your email address before ordering.",
    CartEmpty = ("cart_empty", UNPROCESSABLE_ENTITY) "The cart has no lines to order.",
    AmountOutOfRange = ("amount_out_of_range", UNPROCESSABLE_ENTITY) "The order's amounts are beyond what the shop handles (a price times a quantity, or their sum).",
    IdempotencyKeyReused = ("idempotency_key_reused", UNPROCESSABLE_ENTITY) "This Idempotency-Key was used for a different request.",
    IdempotencyKeyInUse = ("idempotency_key_in_use", CONFLICT) "A request with this Idempotency-Key is still being processed; retry shortly.",
    InvalidSignature = ("invalid_signature", BAD_REQUEST) "A provider webhook's signature is forged, stale or malformed; nothing was changed.",
    InvalidTransition = ("invalid_transition", CONFLICT) "The order's state does not allow this (e.g. cancelling a paid order).",
    DiscountCodeInvalid = ("discount_code_invalid", UNPROCESSABLE_ENTITY) "The discount code does not apply (unknown, not active now, used up, or the subtotal is below its minimum); `detail` says which.",
    DiscountCodeTaken = ("discount_code_taken", CONFLICT) "Another discount already has this code.",
    FulfillmentExceedsOrder = ("fulfillment_exceeds_order", CONFLICT) "More of these SKUs (`skus` names them) than the order has left to ship.",
    ShippingUnavailable = ("shipping_unavailable", UNPROCESSABLE_ENTITY) "No shipping method ships this order: none serves the address's country, or the one chosen (`shipping_method_id` names it) is not offered now, does not serve that country, or the order is beyond its weight or subtotal bands; `detail` says which.",
    ShippingNameTaken = ("shipping_name_taken", CONFLICT) "Another shipping zone has this name, or another method of the same zone.",
    TooManyUnpaidOrders = ("too_many_unpaid_orders", CONFLICT) "You have as many unpaid orders as the shop allows open at once; pay or cancel one first.",
    QuantityLimitExceeded = ("quantity_limit_exceeded", CONFLICT) "More of these SKUs (`skus` names them) than one order or one shopper's open orders may hold.",

    // Concurrency.
    ConcurrentUpdate = ("concurrent_update", CONFLICT) "Another change to the same thing happened at the same time; retry.",

    // The edge and availability.
    RateLimited = ("rate_limited", TOO_MANY_REQUESTS) "Too many requests; wait for Retry-After.",
    RevocationUnavailable = ("revocation_unavailable", SERVICE_UNAVAILABLE) "The revocation list cannot be checked right now; retry shortly.",
    Busy = ("busy", SERVICE_UNAVAILABLE) "The service is at capacity for this kind of work; retry shortly.",
    NotReady = ("not_ready", SERVICE_UNAVAILABLE) "A readiness check of the service failed.",
    ServiceUnavailable = ("service_unavailable", SERVICE_UNAVAILABLE) "NGINX cannot reach the gateway; retry shortly.",
    UpstreamUnavailable = ("upstream_unavailable", SERVICE_UNAVAILABLE) "The service behind this route is down or its circuit is open.",
    BadGateway = ("bad_gateway", BAD_GATEWAY) "The service behind this route failed to answer properly.",
    UpstreamTimeout = ("upstream_timeout", GATEWAY_TIMEOUT) "The service behind this route did not answer in time.",
    InternalError = ("internal_error", INTERNAL_SERVER_ERROR) "An unexpected error; its cause is logged under the request id, never sent.",
}

field_codes! {
    Required = "required" "The field is required.",
    InvalidValue = "invalid_value" "The value has the wrong type or shape.",
    InvalidLength = "invalid_length" "The text is too short or too long.",
    InvalidCharacters = "invalid_characters" "The text contains characters it may not (control characters).",
    InvalidEmail = "invalid_email" "Not a valid email address.",
    PasswordTooShort = "password_too_short" "The password is shorter than the minimum.",
    PasswordTooLong = "password_too_long" "The password is longer than the maximum.",
    InvalidOrExpired = "invalid_or_expired" "The one-time link is invalid, used or expired.",
    InvalidPhone = "invalid_phone" "Not a phone number in international format.",
    InvalidCountry = "invalid_country" "Not a two-letter ISO 3166-1 country code.",
    InvalidLocale = "invalid_locale" "Not a locale such as en or de-AT.",
    InvalidCurrency = "invalid_currency" "Not a three-letter ISO 4217 currency code.",
    OutOfRange = "out_of_range" "The number is outside the allowed range (e.g. a page size of 1 to 100).",
    InvalidCursor = "invalid_cursor" "The cursor is not one this API handed out.",
}

impl Code {
    /// The code with this snake_case form, if the registry holds it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|code| code.as_str() == text)
    }
}

impl FieldCode {
    /// The field code with this snake_case form, if the registry holds it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|code| code.as_str() == text)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_unique_snake_case_and_an_error_status() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{text}");
            assert!(code.status().is_client_error() || code.status().is_server_error(), "{text}");
            assert!(!code.meaning().is_empty());
            assert_eq!(Code::parse(text), Some(*code));
        }
        for code in FieldCode::ALL {
            assert!(seen.insert(code.as_str()), "{} is both a problem and a field code", code.as_str());
            assert_eq!(FieldCode::parse(code.as_str()), Some(*code));
        }
    }
}
