-- Reviews (spec: Postgres holds reviews): one per shopper per product, moderated by staff; the
-- product's rating_sum/rating_count count published reviews only and change in the review's
-- own transaction. Purchases (from ORDER_PAID) mark reviews as verified.

create table reviews (
    id uuid primary key,
    product_id uuid not null references products (id) on delete cascade,
    user_id uuid not null,
    rating smallint not null constraint reviews_rating_range check (rating between 1 and 5),
    title text not null,
    body text not null,
    status text not null default 'published' constraint reviews_status_known check (status in ('published', 'hidden')),
    verified_purchase boolean not null default false,
    helpful_count integer not null default 0 constraint reviews_helpful_not_negative check (helpful_count >= 0),
    moderation_note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint reviews_one_per_user unique (product_id, user_id)
);

create index reviews_newest_idx on reviews (product_id, created_at desc, id desc) where status = 'published';
create index reviews_helpful_idx on reviews (product_id, helpful_count desc, created_at desc, id desc) where status = 'published';
create index reviews_moderation_idx on reviews (status, created_at desc, id desc);

-- One helpful vote per shopper per review.
create table review_votes (
    review_id uuid not null references reviews (id) on delete cascade,
    user_id uuid not null,
    created_at timestamptz not null default now(),
    primary key (review_id, user_id)
);

-- Who bought which product (from the order service's ORDER_PAID).
create table purchases (
    user_id uuid not null,
    product_id uuid not null references products (id) on delete cascade,
    first_paid_at timestamptz not null default now(),
    primary key (user_id, product_id)
);
