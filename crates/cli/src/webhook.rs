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
