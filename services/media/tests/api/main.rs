//! The media service's API tests, against a real S3 server (s3s-fs) and PostgreSQL.

mod helpers;
mod uploads;
