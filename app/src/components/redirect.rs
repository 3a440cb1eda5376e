//! Sending a signed-out reader to the sign-in page. Leptos' `<Redirect>` sets `Location` on the
//! server but leaves the status at 200, which a browser without JavaScript does not follow; this
//! makes the server's answer a real `303 See Other`.

use leptos::prelude::*;
use leptos_router::components::Redirect;

/// Redirects to `/login?next={next}`.
#[component]
pub fn SignInFirst(next: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::SEE_OTHER);
    }
    view! { <Redirect path=format!("/login?next={next}") /> }
}
