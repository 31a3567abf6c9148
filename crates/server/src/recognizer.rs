//! Speech recognition of call recordings for QC (QC from calls): a [`Recognizer`] turns a
//! call's two-channel WAV into a transcript in QC's JSON form, which QC then analyses and stores
//! with the call's attempt, as a transcript submitted through the API would be.
//!
//! Daylight ships no speech model and downloads none: the bank's recogniser is reached over
//! HTTP ([`HttpRecognizer`]). See docs/calls.md ("QC from calls").

use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jiff::Timestamp;

/// A call's audio to transcribe.
#[derive(Debug, Clone, Copy)]
pub struct Audio<'a> {
    /// The call's id (the started attempt's), as the transcript's `call_id` should be.
    pub call_id: i64,
    /// When the call started.
    pub started_at: Timestamp,
    /// The recording: a WAV, 8 kHz, 16-bit, left the collector, right the debtor.
    pub wav: &'a [u8],
}

/// Why a recording was not transcribed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RecognizerError {
    /// `RECOGNIZER_UNREACHABLE`, `RECOGNIZER_TIMEOUT` or `RECOGNIZER_STATUS`.
    pub code: &'static str,
    /// What happened.
    pub message: String,
}

/// Turns a call's recording into a transcript (QC's JSON form: `call_id`, `started_at`,
/// `language`, `turns` with `speaker` `agent` or `other`).
#[async_trait]
pub trait Recognizer: Send + Sync {
    /// The transcript's JSON text.
    async fn transcribe(&self, audio: &Audio<'_>) -> Result<String, RecognizerError>;
}

/// A bank's recogniser over HTTP: `POST url` with the WAV as the body (`audio/wav`), the call in
/// `X-Daylight-Call` and its start in `X-Daylight-Started-At` (RFC 3339), a bearer token if set;
/// a 200 answer's body is the transcript.
#[derive(Clone)]
pub struct HttpRecognizer {
    url: axum::http::Uri,
    token: Option<String>,
    timeout: Duration,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl std::fmt::Debug for HttpRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret.
        f.debug_struct("HttpRecognizer").field("url", &self.url).field("timeout", &self.timeout).finish()
    }
}

impl HttpRecognizer {
    /// A recogniser at `url` (`http://…`), with an optional bearer `token` and a `timeout` per
    /// recording.
    pub fn new(url: &str, token: Option<String>, timeout: Duration) -> Result<HttpRecognizer, String> {
        let uri: axum::http::Uri = url.parse().map_err(|e| format!("{url:?}: {e}"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!("{url:?}: expected an http:// URL with a host"));
        }
        Ok(HttpRecognizer {
            url: uri,
            token,
            timeout,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }
}

#[async_trait]
impl Recognizer for HttpRecognizer {
    async fn transcribe(&self, audio: &Audio<'_>) -> Result<String, RecognizerError> {
        let mut req = axum::http::Request::post(self.url.clone())
            .header(axum::http::header::CONTENT_TYPE, "audio/wav")
            .header("x-daylight-call", audio.call_id.to_string())
            .header("x-daylight-started-at", audio.started_at.to_string());
        if let Some(t) = &self.token {
            req = req.header(axum::http::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req
            .body(Full::new(Bytes::copy_from_slice(audio.wav)))
            .map_err(|e| RecognizerError { code: "RECOGNIZER_UNREACHABLE", message: e.to_string() })?;
        let call = async {
            let resp = self.client.request(req).await.map_err(|e| RecognizerError {
                code: "RECOGNIZER_UNREACHABLE",
                message: format!("{}: {e}", self.url),
            })?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| RecognizerError { code: "RECOGNIZER_UNREACHABLE", message: e.to_string() })?
                .to_bytes();
            let text = String::from_utf8_lossy(&body).into_owned();
            if !status.is_success() {
                let head: String = text.chars().take(200).collect();
                return Err(RecognizerError {
                    code: "RECOGNIZER_STATUS",
                    message: format!("{} answered {status}: {head}", self.url),
                });
            }
            Ok(text)
        };
        tokio::time::timeout(self.timeout, call).await.map_err(|_| RecognizerError {
            code: "RECOGNIZER_TIMEOUT",
            message: format!("{} did not answer within {} s", self.url, self.timeout.as_secs()),
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_http_url_with_a_host_is_taken() {
        assert!(HttpRecognizer::new("https://asr.bank/x", None, Duration::from_secs(5)).is_err());
        assert!(HttpRecognizer::new("asr.bank/x", None, Duration::from_secs(5)).is_err());
        assert!(HttpRecognizer::new("http://10.0.0.9:8000/asr", None, Duration::from_secs(5)).is_ok());
    }

    #[tokio::test]
    async fn an_unreachable_or_failing_recogniser_is_an_error_with_its_code() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let r = HttpRecognizer::new(&format!("http://127.0.0.1:{port}/asr"), None, Duration::from_secs(5))
            .unwrap();
        let audio = Audio { call_id: 1, started_at: Timestamp::UNIX_EPOCH, wav: b"RIFF" };
        assert_eq!(r.transcribe(&audio).await.unwrap_err().code, "RECOGNIZER_UNREACHABLE");
        // One that answers 503.
        let app = axum::Router::new().route(
            "/asr",
            axum::routing::post(|| async { (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy") }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let r = HttpRecognizer::new(&format!("http://{addr}/asr"), Some("t".into()), Duration::from_secs(5))
            .unwrap();
        let e = r.transcribe(&audio).await.unwrap_err();
        assert_eq!(e.code, "RECOGNIZER_STATUS");
        assert!(e.message.contains("503") && e.message.contains("busy"), "{e}");
        // One that never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let r = HttpRecognizer::new(&format!("http://{addr}/asr"), None, Duration::from_millis(300)).unwrap();
        assert_eq!(r.transcribe(&audio).await.unwrap_err().code, "RECOGNIZER_TIMEOUT");
        drop(silent);
    }
}
