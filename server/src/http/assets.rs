//! The browser's bundles: `/pkg` (the app's script, WebAssembly and stylesheet, built by
//! cargo-leptos) and `/editor` (the live editor module, `scripts/build-editor.sh`), served
//! from the site root with their precompressed copies, conditional requests (304) and cache
//! headers: a name that carries the hash of its content is `immutable` for a year (a new build
//! has new names, which the pages name), anything else is revalidated on every use.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, Method, StatusCode, header};
use tower_http::services::ServeDir;

/// For names that carry the hash of their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else under the asset paths.
const REVALIDATE: &str = "public, no-cache";

/// The asset routes, serving files under `site_root`.
pub fn routes<S: Clone + Send + Sync + 'static>(site_root: &Path, pkg_dir: &str) -> Router<S> {
    let dir = |path: &Path| ServeDir::new(path).precompressed_br().precompressed_gzip();
    Router::new()
        .nest_service(&format!("/{pkg_dir}"), dir(&site_root.join(pkg_dir)))
        .nest_service("/editor", dir(&site_root.join("editor")))
        .layer(axum::middleware::from_fn(cache_control))
}

async fn cache_control(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let cacheable = matches!(*req.method(), Method::GET | Method::HEAD);
    let hashed = is_content_hashed(req.uri().path());
    let mut response = next.run(req).await;
    let served = matches!(
        response.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    );
    let value = if cacheable && served && hashed {
        IMMUTABLE
    } else if cacheable && served {
        REVALIDATE
    } else {
        "no-store"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// Whether `path` names a file by the hash of its content: cargo-leptos's
/// `/pkg/{name}.{22 base64url characters}.{js,wasm,css}` (`hash-files`), or the editor's
/// `/editor/{16 hex digits}/{file}` (its directory named by its content). Never
/// `/pkg/snippets/…`, whose names come from the crate's name and version, not its content.
pub fn is_content_hashed(path: &str) -> bool {
    if let Some(rest) = path.strip_prefix("/editor/") {
        return rest.split_once('/').is_some_and(|(dir, file)| {
            dir.len() == 16
                && dir.bytes().all(|b| b.is_ascii_hexdigit())
                && !file.is_empty()
                && !file.contains('/')
        });
    }
    let Some(file) = path.strip_prefix("/pkg/") else {
        return false;
    };
    if file.contains('/') {
        return false;
    }
    let mut parts = file.rsplitn(3, '.');
    let (Some(ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    matches!(ext, "js" | "wasm" | "css")
        && !stem.is_empty()
        && hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn only_names_that_carry_their_content_hash_are_immutable() {
        for hashed in [
            "/pkg/arbor.Ab3-_x0123456789abcdef.wasm",
            "/pkg/arbor.Ab3-_x0123456789abcdef.js",
            "/pkg/arbor.Ab3-_x0123456789abcdef.css",
            "/editor/0123456789abcdef/editor.js",
            "/editor/0123456789abcdef/editor_bg.wasm",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in [
            "/pkg/arbor.wasm",
            "/pkg/arbor.js",
            "/pkg/arbor.short.wasm",
            "/pkg/snippets/arbor-app-0123456789abcdef/inline0.js",
            "/pkg/arbor.Ab3-_x0123456789abcdef.html",
            "/editor/editor.js",
            "/editor/current",
            "/editor/0123456789abcdeg/editor.js",
            "/editor/0123456789abcdef/",
            "/favicon.ico",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }
}
