//! The staff console: sign in/out, import, edit, publish, history and the drift report, each
//! limited to what the policy allows the signed-in user.

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
