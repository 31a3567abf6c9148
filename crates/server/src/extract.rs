//! The API's extractors: [`Json`], [`Query`] and [`Path`] answer every refusal in the one
//! error shape ([`ApiError`]) with a stable code and the field at fault, and refuse text that
//! holds a control, bidirectional or zero-width character ([`daylight_domain::text`]) with 422
//! `TEXT_CHARACTER` naming the field, whatever the backend behind.
//!
//! | Refusal | Status | Code |
//! |---|---|---|
//! | body not declared `application/json` | 415 | `UNSUPPORTED_MEDIA_TYPE` |
//! | body over the limit | 413 | `BODY_TOO_LARGE` |
//! | body not JSON | 400 | `MALFORMED_JSON` (with line and column) |
//! | a field missing or of the wrong type | 422 | `INVALID_FIELD` (with the field) |
//! | a refused character in any text | 422 | `TEXT_CHARACTER` (with the field) |
//! | a query, form or path that does not parse | 400 | `BAD_QUERY`, `BAD_FORM`, `BAD_PATH` |

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use daylight_domain::text;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON body, checked as the module says; as a response, the value as JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn is_json(parts: &axum::http::HeaderMap) -> bool {
    parts.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
    })
}

/// The request's body, within the server's limit (413 `BODY_TOO_LARGE` past it).
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BODY_TOO_LARGE",
                "the body is over the server's limit",
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "BAD_BODY", "the body could not be read")
        }
    })
}

/// Whether the request's body is a URL-encoded form.
pub(crate) fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Json<T>, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        from_json_bytes(&bytes).map(Json)
    }
}

/// Parses a JSON body as the module says.
pub fn from_json_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            format!("the body is not JSON: line {}, column {}: {e}", e.line(), e.column()),
        )
    })?;
    check_value(&value, &mut String::new())?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let (field, message) = humane(&path, &e.inner().to_string());
        let mut err = ApiError::field(&field, "INVALID_FIELD", message);
        if field == "." {
            err.field = None;
        }
        err
    })
}

/// serde's words for a body that does not fit its type, as a person reads them: the field at
/// fault (a missing or unknown field is named, not its parent) and what was expected.
fn humane(path: &str, serde: &str) -> (String, String) {
    let at = |name: &str| if path == "." { name.to_owned() } else { format!("{path}.{name}") };
    let ticked = |s: &str| s.split('`').nth(1).map(str::to_owned);
    let kind = |expected: &str| match expected.trim() {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number of 0 or more".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a string" => "text (in quotes)".to_owned(),
        "a boolean" => "true or false".to_owned(),
        other => other.to_owned(),
    };
    if let Some(rest) = serde.strip_prefix("missing field ") {
        let name = ticked(rest).unwrap_or_default();
        return (at(&name), "required; it is missing".to_owned());
    }
    if let Some(rest) = serde.strip_prefix("unknown field ") {
        let name = ticked(rest).unwrap_or_default();
        let known: Vec<&str> = rest.split('`').skip(3).step_by(2).collect();
        let message = if known.is_empty() {
            "not a field of this request".to_owned()
        } else {
            format!("not a field of this request; expected one of {}", known.join(", "))
        };
        // serde_path_to_error puts an unknown field in the path already.
        let field =
            if path == name || path.ends_with(&format!(".{name}")) { path.to_owned() } else { at(&name) };
        return (field, message);
    }
    for prefix in ["invalid value: ", "invalid type: "] {
        if let Some(rest) = serde.strip_prefix(prefix)
            && let Some((got, expected)) = rest.split_once(", expected ")
        {
            let got = got.replace('`', "");
            return (path.to_owned(), format!("expected {}, got {got}", kind(expected)));
        }
    }
    (path.to_owned(), serde.to_owned())
}

/// Refuses a string anywhere in `v` (keys included) that holds a refused character.
fn check_value(v: &Value, path: &mut String) -> Result<(), ApiError> {
    match v {
        Value::String(s) => check_text(path, s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_value(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                check_text(path, k)?;
                check_value(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Refuses `s`, the value of `field`, when it holds a refused character.
pub fn check_text(field: &str, s: &str) -> Result<(), ApiError> {
    match text::first_refused(s) {
        None => Ok(()),
        Some((at, c)) => Err(ApiError::field(
            if field.is_empty() { "body" } else { field },
            "TEXT_CHARACTER",
            format!(
                "{} at character {} is refused: text may not hold control, bidirectional or zero-width characters",
                text::describe(c),
                at + 1
            ),
        )),
    }
}

/// A query string, checked as the module says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Query<T>, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        from_pairs(q.as_bytes(), "BAD_QUERY").map(Query)
    }
}

/// Parses `application/x-www-form-urlencoded` pairs (a query or a form) into `T`, refusing
/// text with a refused character (422 `TEXT_CHARACTER`) and values that do not fit (`code`,
/// naming the field).
pub fn from_pairs<T: DeserializeOwned>(bytes: &[u8], code: &str) -> Result<T, ApiError> {
    for (k, v) in form_urlencoded::parse(bytes) {
        check_text(&k, &k)?;
        check_text(&k, &v)?;
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let mut err = ApiError::new(StatusCode::BAD_REQUEST, code, e.inner().to_string());
        if field != "." {
            err.field = Some(field);
        }
        err
    })
}

/// A URL-encoded form body (the console's plain forms), checked as the module says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Form<T>, ApiError> {
        if !is_form(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the form as application/x-www-form-urlencoded",
            ));
        }
        let bytes = read_body(req, state).await?;
        from_pairs(&bytes, "BAD_FORM").map(Form)
    }
}

/// Path parameters, checked as the module says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Path<T>, ApiError> {
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "BAD_PATH", e.body_text()))?;
        for (k, v) in &raw {
            check_text(k, v)?;
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "BAD_PATH", e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_body_that_does_not_fit_is_told_in_words_naming_the_field() {
        let e = from_json_bytes::<crate::work::NewContact>(
            br#"{"contact_point":"x","outcome":"busy","duration_secs":-3}"#,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("duration_secs"));
        assert_eq!(e.message, "expected a whole number of 0 or more, got integer -3");
        let e = from_json_bytes::<crate::work::NewContact>(br#"{"contact_point":"x"}"#).unwrap_err();
        assert_eq!((e.field.as_deref(), e.message.as_str()), (Some("outcome"), "required; it is missing"));
        let e = from_json_bytes::<crate::work::NewContact>(
            br#"{"contact_point":"x","outcome":"busy","colour":1}"#,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("colour"));
        assert!(
            e.message.starts_with("not a field of this request; expected one of contact_point, channel"),
            "{}",
            e.message
        );
        let e = from_json_bytes::<crate::work::NewContact>(br#"{"contact_point":7,"outcome":"busy"}"#)
            .unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some("contact_point"), "expected text (in quotes), got integer 7")
        );
    }

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Note {
        text: String,
        tags: Vec<String>,
        n: Option<i64>,
    }

    #[test]
    fn json_refusals_name_the_field_and_the_code() {
        let e = from_json_bytes::<Note>(br#"{"text":"a\u0000b","tags":[]}"#).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, "TEXT_CHARACTER", Some("text"))
        );
        assert!(e.message.contains("U+0000 at character 2"), "{}", e.message);
        let e = from_json_bytes::<Note>("{\"text\":\"a\",\"tags\":[\"x\",\"T\u{202E}1\"]}".as_bytes())
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tags[1]"));
        let e = from_json_bytes::<Note>(br#"{"text":"a","tags":[],"n":"x"}"#).unwrap_err();
        assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID_FIELD", Some("n")));
        let e = from_json_bytes::<Note>(br#"{"text":"a""#).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (StatusCode::BAD_REQUEST, "MALFORMED_JSON"));
        let ok = from_json_bytes::<Note>("{\"text\":\"张三\\n二行\",\"tags\":[]}".as_bytes()).unwrap();
        assert_eq!(ok.text, "张三\n二行");
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Q {
        team: Option<String>,
        limit: Option<u32>,
    }

    #[test]
    fn query_refusals_name_the_field() {
        let e = from_pairs::<Q>(b"team=T%001", "BAD_QUERY").unwrap_err();
        assert_eq!((e.code.as_str(), e.field.as_deref()), ("TEXT_CHARACTER", Some("team")));
        let e = from_pairs::<Q>(b"limit=many", "BAD_QUERY").unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.field.as_deref()),
            (StatusCode::BAD_REQUEST, "BAD_QUERY", Some("limit"))
        );
        assert_eq!(from_pairs::<Q>(b"team=T1&limit=3", "BAD_QUERY").unwrap().limit, Some(3));
    }
}
