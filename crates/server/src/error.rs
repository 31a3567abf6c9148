//! One error type per surface: [`ApiError`] answers JSON in one shape with a stable code;
//! the console turns the same errors into pages ([`crate::console`]). Internal causes are
//! logged, never shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use daylight_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answered by the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code (`NOT_FOUND`, `FORBIDDEN`, `CSRF`, a store or compliance code, …).
    pub code: String,
    /// A sentence for the person: what went wrong and what to do.
    pub message: String,
    /// The request field at fault, when one is.
    pub field: Option<String>,
}

/// The body of every error: `{"error": {"code": …, "message": …, "field": …}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code, message and field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `NOT_FOUND`, `FORBIDDEN`, `BAD_CREDENTIALS`, `LOCKED`, `CSRF`,
    /// `DAILY_CAP` (a compliance rule), `AMOUNT_RANGE` (a domain check).
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.to_owned(), message: message.into(), field: None }
    }

    /// A bad field in the request (422).
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.to_owned()),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
        }
    }

    /// Not signed in (401).
    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "sign in first")
    }

    /// The role may not do this (403).
    pub fn forbidden(what: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", format!("your role may not {what}"))
    }

    /// No such record within the caller's scope (404).
    pub fn not_found(kind: &str, id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("{kind} {id} not found"))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match &e {
            StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            // A closed case is a state of the case, not a bad request.
            StoreError::Invalid(i) if i.code == daylight_domain::Code::CaseClosed => StatusCode::CONFLICT,
            StoreError::Invalid(_) | StoreError::Policy(_) => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::Busy(_) | StoreError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(code = e.code(), error = %e, "store error");
            return ApiError::new(
                status,
                e.code(),
                "the server could not complete the request; it has been logged",
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // The database's own words stay in the log: they may name tables, values or hosts.
            tracing::warn!(code = e.code(), error = %e, "store unavailable");
            return ApiError::new(
                status,
                e.code(),
                "the database is busy or unreachable: try again in a moment",
            );
        }
        let message = match &e {
            StoreError::Invalid(i) => i.message.clone(),
            other => other.to_string(),
        };
        ApiError::new(status, e.code(), message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { code: self.code, message: self.message, field: self.field } };
        (self.status, Json(body)).into_response()
    }
}

/// Results of API handlers.
pub type ApiResult<T> = Result<T, ApiError>;
