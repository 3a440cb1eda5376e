//! The browser entry point. Owns nothing but start-up: it installs the panic hook and hydrates
//! the islands of the server-rendered page (`arbor_app::components::islands`); every other
//! part of a page is plain HTML from the server. All UI lives in `app/`.

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Also keeps `arbor-app`, whose island exports the islands script calls, linked in.
    arbor_app::mark_hydrated();
}
