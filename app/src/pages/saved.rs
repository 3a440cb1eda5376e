//! `/saved`: the subjects you saved, most recently saved first.

use crate::components::redirect::SignInFirst;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::subject::SubjectPageList;
use crate::error::ErrorCode;
use crate::subjects::saved_page;

#[component]
pub fn SavedPage() -> impl IntoView {
    let query = use_query_map();
    let cursor = move || query.read().get("cursor");
    let saved = Resource::new(cursor, saved_page);
    view! {
        <Title text="Saved" />
        <h1 class="mb-4 text-2xl font-bold">"Saved subjects"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match saved.await {
                    Ok(page) => view! {
                        <div data-testid="saved">
                            <SubjectPageList page empty="Nothing saved yet. Save a subject to find it here."
                                next_href=|c| format!("/saved?cursor={c}") />
                        </div>
                    }.into_any(),
                    Err(e) if e.code == ErrorCode::Unauthenticated => view! { <SignInFirst next="/saved" /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
