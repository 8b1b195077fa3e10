//! The media service: the object store (any S3) and the upload limits.

use crate::Setting;

pub const S3_ENDPOINT: Setting = Setting::optional(
    "S3_ENDPOINT",
    "The object store's endpoint (any S3: R2, Supabase Storage, MinIO; `cargo xtask up` runs s3s-fs); unset: AWS's own.",
);
pub const S3_REGION: Setting = Setting::value("S3_REGION", "us-east-1", "The object store's region.");
pub const S3_BUCKET: Setting = Setting::value("S3_BUCKET", "shopfleet-media", "The bucket media are stored in.");
pub const S3_FORCE_PATH_STYLE: Setting = Setting::computed(
    "S3_FORCE_PATH_STYLE",
    "true with an endpoint",
    "Path-style bucket addresses (local servers, R2, Supabase).",
);
pub const S3_PUBLIC_BASE_URL: Setting = Setting::computed(
    "S3_PUBLIC_BASE_URL",
    "the endpoint and bucket",
    "What an object key is appended to for its public URL (your CDN); required without an endpoint.",
);
pub const AWS_ACCESS_KEY_ID: Setting =
    Setting::required("AWS_ACCESS_KEY_ID", "The object store's access key (`cargo xtask keys` writes dev ones).")
        .secret();
pub const AWS_SECRET_ACCESS_KEY: Setting =
    Setting::required("AWS_SECRET_ACCESS_KEY", "The object store's secret key.").secret();
pub const MEDIA_MAX_BYTES: Setting = Setting::value("MEDIA_MAX_BYTES", "20971520", "The largest upload (20 MiB).");
pub const MEDIA_MAX_PIXELS: Setting = Setting::value(
    "MEDIA_MAX_PIXELS",
    "25000000",
    "The most pixels an image may have, checked before decoding (25 MP peaks near 250 MB while processed).",
);
pub const MEDIA_MAX_SIDE: Setting = Setting::value("MEDIA_MAX_SIDE", "12000", "The longest side an image may have.");
pub const MEDIA_PROCESSING_CONCURRENCY: Setting = Setting::value(
    "MEDIA_PROCESSING_CONCURRENCY",
    "1",
    "Images decoded and resized at once (the rest wait), so an upload burst's memory is bounded.",
);
pub const MEDIA_VARIANTS: Setting = Setting::value(
    "MEDIA_VARIANTS",
    "thumb=160,medium=640,large=1280",
    "The renditions made of every image: name = longest side (16 to 4096).",
);
pub const MEDIA_UPLOAD_EXPIRY_SECS: Setting =
    Setting::value("MEDIA_UPLOAD_EXPIRY_SECS", "600", "How long a presigned upload is valid.");

pub const ALL: &[&Setting] = &[
    &S3_ENDPOINT,
    &S3_REGION,
    &S3_BUCKET,
    &S3_FORCE_PATH_STYLE,
    &S3_PUBLIC_BASE_URL,
    &AWS_ACCESS_KEY_ID,
    &AWS_SECRET_ACCESS_KEY,
    &MEDIA_MAX_BYTES,
    &MEDIA_MAX_PIXELS,
    &MEDIA_MAX_SIDE,
    &MEDIA_PROCESSING_CONCURRENCY,
    &MEDIA_VARIANTS,
    &MEDIA_UPLOAD_EXPIRY_SECS,
];
