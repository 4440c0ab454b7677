//! Staff authentication lives in `baton-auth`, shared with the console; the API's state
//! hands it what it needs.

use axum::extract::FromRef;
pub use baton_auth::Staff;

use crate::app::AppState;

impl FromRef<AppState> for baton_auth::AuthState {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}
