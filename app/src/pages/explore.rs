//! `/explore`: the catalogue, searched with the query language (`docs/search.md`). The query
//! is a plain GET form, so search works without JavaScript; a malformed query is shown inline
//! with a marker under the character where it went wrong.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::components::subject::SubjectPageList;
use crate::subjects::explore_page;

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn ExplorePage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let cursor = move || query.read().get("cursor");
    let results = Resource::new(move || (q(), cursor()), |(q, c)| explore_page(q, c));
    view! {
        <Title text="Explore" />
        <Meta name="description" content="Find subjects on Arbor: search titles, topics and tags, filter by author, likes and dates." />
        <h1 class="mb-4 text-2xl font-bold">"Explore"</h1>
        <form method="get" action="/explore" role="search" class="mb-2 flex gap-2">
            <label for="q" class="sr-only">"Search"</label>
            <input id="q" name="q" type="search" value=q class="field-input font-mono" data-testid="search-input"
                placeholder="rust tag:async author:alice likes:>10 sort:likes" aria-describedby="q-help q-error" />
            <button type="submit" class="btn-primary" data-testid="search-button">"Search"</button>
        </form>
        <p id="q-help" class="mb-6 text-xs text-muted">
            "Words match titles, summaries, tags and topics. Filters: tag:, -tag:, author:, likes:, saves:, views: (>, >=, <, <=), created:, updated: (YYYY-MM-DD), sort:new|updated|likes|saves|views|relevance."
        </p>
        <Suspense fallback=|| view! { <p>"Searching…"</p> }>
            {move || Suspend::new(async move {
                let text = q();
                match results.await {
                    Ok(page) => {
                        let base = text.clone();
                        view! {
                            <SubjectPageList page empty="No subjects match."
                                next_href=move |c| format!("/explore?q={}&cursor={c}", url_encode(&base)) />
                        }.into_any()
                    }
                    Err(e) => {
                        let marker = e.position.map(|p| {
                            let shown: String = text.chars().collect();
                            let pad = " ".repeat(p.min(shown.chars().count()));
                            view! {
                                <pre class="mt-2 overflow-x-auto rounded bg-raised p-2 text-sm">{shown}"\n"{pad}"^"</pre>
                            }
                        });
                        view! {
                            <div id="q-error" role="alert" data-testid="query-error" class="note-bad p-3">
                                {e.message}
                                {marker}
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
