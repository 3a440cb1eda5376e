//! Where the browser finds the assets that are not the app's own bundle: the live editor
//! module, built by `scripts/build-editor.sh` into a directory named by the hash of its
//! content (`/editor/{hash}/editor.js`, the hash in `editor/current` under the site root), so
//! it can be cached for good and a new build is never paired with an old page.

/// The URL of the live editor module (read once per process: a new editor build comes with a
/// restart).
pub fn editor_module() -> String {
    #[cfg(feature = "ssr")]
    {
        static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        URL.get_or_init(|| {
            let site_root = leptos::prelude::use_context::<crate::ssr::AppState>()
                .map(|state| state.leptos_options().site_root.to_string())
                .unwrap_or_else(|| "target/site".to_owned());
            let current = std::path::Path::new(&site_root).join("editor/current");
            match std::fs::read_to_string(&current) {
                Ok(hash) if !hash.trim().is_empty() => format!("/editor/{}/editor.js", hash.trim()),
                _ => "/editor/editor.js".to_owned(),
            }
        })
        .clone()
    }
    #[cfg(not(feature = "ssr"))]
    "/editor/editor.js".to_owned()
}
