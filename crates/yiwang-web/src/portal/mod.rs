//! The public portal: home, browse by region / department / theme / audience, name search and
//! the item guide (办事指南). Server-rendered, no JavaScript.

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
