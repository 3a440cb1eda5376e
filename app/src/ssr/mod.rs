//! The app's server side: the state a request carries ([`AppState`]: the services plus
//! Leptos' options), who is calling ([`auth`]), and what a page render sets on its response
//! ([`page`]). The rules themselves are `arbor_services`'.

pub mod auth;
pub mod page;

use std::ops::Deref;

use arbor_services::Services;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

/// Everything a request handler may need; cheap to clone. It is the services' state (which it
/// dereferences to, so a handler passes `&state` to a service) plus Leptos' options.
#[derive(Clone)]
pub struct AppState {
    services: Services,
    leptos_options: LeptosOptions,
}

impl AppState {
    pub fn new(services: Services, leptos_options: LeptosOptions) -> Self {
        Self {
            services,
            leptos_options,
        }
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    pub fn leptos_options(&self) -> &LeptosOptions {
        &self.leptos_options
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The services, inside a server function or a page render.
pub fn state() -> Result<Services, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>()
        .map(|state| state.services)
        .ok_or_else(|| {
            crate::error::AppError::internal(anyhow::anyhow!("AppState missing from context"))
        })
}
