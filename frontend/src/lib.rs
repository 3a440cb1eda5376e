//! The browser entry point. Owns nothing but start-up: it installs the panic hook and hydrates
//! the server-rendered [`arbor_app::App`]. All UI lives in `app/`.

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(arbor_app::App);
}
