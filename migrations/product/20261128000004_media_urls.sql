-- The public URLs of the images products reference (by media id), kept from the media
-- service's MEDIA_UPLOADED / MEDIA_DELETED events: no storefront read calls the media service.
create table media_urls (
    media_id uuid primary key,
    -- The re-encoded original.
    url text not null,
    -- Variant name → JPEG URL ({"thumb": ..., "medium": ..., "large": ...}).
    variants jsonb not null,
    width integer not null,
    height integer not null
);
