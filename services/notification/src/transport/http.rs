//! HTTP providers: SMS through the Twilio Messages API, push through FCM HTTP v1.

use secrecy::{ExposeSecret, SecretString};

use super::TransportError;
use crate::store::DueMessage;

pub enum SmsTransport {
    Log,
    Twilio { http: reqwest::Client, base_url: String, account_sid: String, auth_token: SecretString, from: String },
}

pub enum PushTransport {
    Log,
    Fcm { http: reqwest::Client, base_url: String, project_id: String, access_token: SecretString },
}

/// 429 and 5xx are worth retrying; other 4xx will fail the same way again.
fn classify(status: reqwest::StatusCode, body: String) -> TransportError {
    if status.as_u16() == 429 || status.is_server_error() {
        TransportError::Temporary(format!("{status}: {body}"))
    } else {
        TransportError::Permanent(format!("{status}: {body}"))
    }
}

fn network(error: reqwest::Error) -> TransportError {
    TransportError::Temporary(error.to_string())
}

/// Sends a provider request and reads the id the provider gave the message from `field` of its
/// JSON answer.
async fn provider_id(request: reqwest::RequestBuilder, field: &str, provider: &str) -> Result<String, TransportError> {
    let response = request.send().await.map_err(network)?;
    let status = response.status();
    let text = response.text().await.map_err(network)?;
    if !status.is_success() {
        return Err(classify(status, text));
    }
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| TransportError::Temporary(e.to_string()))?;
    json[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| TransportError::Temporary(format!("{provider} answered without a {field}")))
}

impl SmsTransport {
    pub async fn send(&self, message: &DueMessage) -> Result<String, TransportError> {
        match self {
            Self::Log => {
                tracing::info!(kind = %message.kind, "sms not sent: the log transport is configured");
                Ok(format!("log-{}", message.id))
            }
            Self::Twilio { http, base_url, account_sid, auth_token, from } => {
                let url = format!("{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json");
                let body = message.body_text.clone().unwrap_or_default();
                let form = [("To", message.recipient.as_str()), ("From", from.as_str()), ("Body", body.as_str())];
                let request = http.post(url).basic_auth(account_sid, Some(auth_token.expose_secret())).form(&form);
                provider_id(request, "sid", "Twilio").await
            }
        }
    }
}

impl PushTransport {
    pub async fn send(&self, message: &DueMessage) -> Result<String, TransportError> {
        match self {
            Self::Log => {
                tracing::info!(kind = %message.kind, "push not sent: the log transport is configured");
                Ok(format!("log-{}", message.id))
            }
            Self::Fcm { http, base_url, project_id, access_token } => {
                let url = format!("{base_url}/v1/projects/{project_id}/messages:send");
                let payload = serde_json::json!({
                    "message": {
                        "token": message.recipient,
                        "notification": {"title": message.subject, "body": message.body_text},
                        "data": {"kind": message.kind, "event_id": message.event_id.to_string()},
                    }
                });
                let request = http.post(url).bearer_auth(access_token.expose_secret()).json(&payload);
                provider_id(request, "name", "FCM").await
            }
        }
    }
}
