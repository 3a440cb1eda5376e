//! The page for unknown addresses (sent with status 404).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <section class="py-16 text-center">
            <h1 class="text-3xl font-bold">"Nothing here"</h1>
            <p class="mt-3 text-muted">"That page does not exist, or it is not yours to see."</p>
            <a href="/" class="btn-secondary mt-6">"Go home"</a>
        </section>
    }
}
