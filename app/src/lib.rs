//! Arbor's application crate: the Leptos UI (routes, pages, components, the islands the
//! browser hydrates) and the thin server functions the pages call, each parsing its inputs
//! and calling a service (`arbor_services`). It owns no rules of its own and no process set-up
//! (configuration, listeners, the HTTP middleware stack: `server/`'s). Server-only code lives
//! under [`ssr`] and never reaches the WebAssembly bundle; the types both sides share are
//! `arbor_types`', re-exported here under their old paths.
// `deny`, not `forbid`: an `#[island]` is a `#[wasm_bindgen]` export, allowed in
// `components::islands` alone.
#![deny(unsafe_code)]

pub mod accounts;
pub mod assets;
pub mod components;
/// The map's layout and drawing, shared with the live map editor (`arbor_map::draw`).
pub use arbor_map::draw as map;
pub mod pages;
pub use arbor_types::{content, error, model, query};
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod subjects;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

use crate::components::layout::Header;
use crate::pages::{
    auth::{LoginPage, SignupPage},
    explore::ExplorePage,
    home::HomePage,
    map_editor::MapEditorPage,
    not_found::NotFound,
    profile::ProfilePage,
    saved::SavedPage,
    settings::SettingsPage,
    subject::{NewSubjectPage, SubjectPage, SubjectSettingsPage},
    topic::{BacklinksPage, TopicEditPage, TopicPage},
};

/// Marks `<body data-hydrated>` once the islands are hydrated, for tests (and people
/// debugging) to wait on. The islands script hydrates each island right after the entry point
/// returns, awaiting each: a zero timeout fires after all of them.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    set_timeout(
        || {
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}

/// The HTML document around the app, rendered on the server only. Its scripts carry the
/// request's CSP nonce, which the server chooses and sends in the header (`server/`).
pub fn shell(options: leptos::config::LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                // Islands: the page is rendered on the server and works without JavaScript;
                // only `components::islands` is hydrated.
                <HydrationScripts options=options.clone() islands=true />
                <HashedStylesheet options id="leptos" />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-page text-ink antialiased">
                <App />
            </body>
        </html>
    }
}

/// The root component: meta context, header and routes (rendered on the server only).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|text: String| {
            if text.is_empty() { "Arbor".to_owned() } else { format!("{text} · Arbor") }
        } />
        <Router>
            // The first stop of the keyboard: past the header, straight to the page.
            <a href="#main" class="skip-link">"Skip to content"</a>
            <Header />
            <main id="main" tabindex="-1" class="mx-auto w-full max-w-5xl px-4 py-8 focus:outline-none sm:px-6">
                // Every page is rendered whole before it is sent (`Async`): it must read
                // completely without JavaScript, and pages set their status (404) and
                // redirects from data they load.
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("signup") view=SignupPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("settings") view=SettingsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("u"), ParamSegment("username")) view=ProfilePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("explore") view=ExplorePage ssr=SsrMode::Async />
                    <Route path=StaticSegment("saved") view=SavedPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("new") view=NewSubjectPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("s"), ParamSegment("slug")) view=SubjectPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("s"), ParamSegment("slug"), StaticSegment("settings")) view=SubjectSettingsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("s"), ParamSegment("slug"), StaticSegment("edit")) view=MapEditorPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("s"), ParamSegment("slug"), StaticSegment("t"), ParamSegment("id")) view=TopicPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("s"), ParamSegment("slug"), StaticSegment("t"), ParamSegment("id"), StaticSegment("edit")) view=TopicEditPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("s"), ParamSegment("slug"), StaticSegment("t"), ParamSegment("id"), StaticSegment("backlinks")) view=BacklinksPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
