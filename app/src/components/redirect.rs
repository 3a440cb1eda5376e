//! Redirects a page makes as it renders: a signed-out reader to the sign-in page, and an old or
//! misspelt address of a page to its canonical one. Leptos' `<Redirect>` sets `Location` on
//! the server but leaves the status at 200, which a browser without JavaScript does not follow;
//! these make the server's answer a real `303 See Other` or `301 Moved Permanently`.

use leptos::prelude::*;
use leptos_meta::Link;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

/// Redirects to `/login?next={next}`.
#[component]
pub fn SignInFirst(next: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::SEE_OTHER);
    }
    view! { <Redirect path=format!("/login?next={next}") /> }
}

/// Names `path` as the page's canonical address (`<link rel="canonical">`), and when the page
/// was asked for by another path (a topic's old title, or only its id), answers with a
/// permanent redirect there instead, the query kept.
#[component]
pub fn Canonical(path: String) -> impl IntoView {
    let location = use_location();
    let asked = location.pathname.get_untracked();
    let moved = (asked.trim_end_matches('/') != path).then(|| {
        let search = location.search.get_untracked();
        if search.is_empty() {
            path.clone()
        } else {
            format!("{path}?{}", search.trim_start_matches('?'))
        }
    });
    #[cfg(feature = "ssr")]
    if let Some(to) = &moved {
        leptos_axum::redirect(to);
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::MOVED_PERMANENTLY);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = moved;
    view! { <Link rel="canonical" href=path /> }
}
