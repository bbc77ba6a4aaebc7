//! The outgoing webhook's HTTP client: posts an escalation event's JSON body.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub struct HttpWebhook {
    url: hyper::Uri,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl HttpWebhook {
    /// Accepts `http://` addresses only (see `[webhook]` in the configuration).
    pub fn new(url: &str) -> Result<Self, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("[webhook] url: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err("[webhook] url must start with http:// (use a local TLS relay for https)".into());
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        Ok(Self { url: uri, client: Client::builder(TokioExecutor::new()).build(connector) })
    }
}

impl tsunagu_app::escalation::WebhookSender for HttpWebhook {
    fn post<'a>(&'a self, body: &'a str) -> Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>> {
        Box::pin(async move {
            let request = hyper::Request::post(self.url.clone())
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .header(hyper::header::USER_AGENT, "tsunagu-webhook")
                .body(Full::new(Bytes::from(body.to_owned())))
                .map_err(|e| e.to_string())?;
            let send = self.client.request(request);
            let response = tokio::time::timeout(Duration::from_secs(10), send)
                .await
                .map_err(|_| "timed out".to_owned())?
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            // Read (and drop) the body so the connection can be reused.
            let _ = response.into_body().collect().await;
            Ok(status)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::sync::{Arc, Mutex};
    use tsunagu_app::escalation::WebhookSender;

    /// A receiver that records each body and answers with `status`.
    async fn receiver(status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: String| {
                let record = record.clone();
                async move {
                    record.lock().unwrap().push(body);
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}/hook"), seen)
    }

    #[tokio::test]
    async fn posts_the_event_and_reports_the_status() {
        let (url, seen) = receiver(204).await;
        let hook = HttpWebhook::new(&url).unwrap();
        assert_eq!(hook.post(r#"{"event":"urgent_request.called"}"#).await, Ok(204));
        assert_eq!(seen.lock().unwrap().as_slice(), [r#"{"event":"urgent_request.called"}"#]);
        let (url, _) = receiver(503).await;
        assert_eq!(HttpWebhook::new(&url).unwrap().post("{}").await, Ok(503));
    }

    #[tokio::test]
    async fn refuses_what_it_cannot_send() {
        assert!(HttpWebhook::new("https://example.jp/hook").is_err(), "https needs a relay");
        assert!(HttpWebhook::new("not a url").is_err());
        // Nobody listens here: an error, not a panic, and the app retries later.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let hook = HttpWebhook::new(&format!("http://{closed}/hook")).unwrap();
        assert!(hook.post("{}").await.is_err());
    }
}
