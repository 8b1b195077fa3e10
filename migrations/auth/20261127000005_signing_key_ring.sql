-- The key ring of access-token signing keys, shared by every auth replica. Private keys are
-- sealed (AES-256-GCM under AUTH_ENCRYPTION_KEY). A key is published in the JWKS from creation,
-- signs from activates_at (later, so verifiers have fetched it first), stops signing when a
-- newer key activates, and leaves the JWKS once every token it signed has expired.
create table signing_keys (
    kid text primary key,
    private_sealed bytea not null,
    public_jwk jsonb not null,
    created_at timestamptz not null default now(),
    activates_at timestamptz not null
);

create index signing_keys_activation_idx on signing_keys (activates_at);
