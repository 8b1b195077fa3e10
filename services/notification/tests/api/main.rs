//! Integration tests of the notification service: real auth producing events, real Redis and
//! PostgreSQL, a real SMTP server (Postfix's smtp-sink), and local HTTP stubs standing in for
//! Twilio and FCM, which cannot be reached from here.

mod delivery;
mod helpers;
mod orders;
mod phones;
mod providers;
