//! `/u/{username}`: a person's public profile.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::accounts::get_profile;
use crate::components::layout::CurrentUser;
use crate::error::ErrorCode;
use crate::pages::not_found::NotFound;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let params = use_params_map();
    let username = move || params.read().get("username").unwrap_or_default();
    let profile = Resource::new(username, get_profile);
    let me = expect_context::<CurrentUser>().0;

    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => {
                        let is_me = matches!(me.await, Ok(Some(m)) if m.username == p.username);
                        let description = if p.bio.is_empty() {
                            format!("{} on Arbor", p.display_name)
                        } else {
                            p.bio.chars().take(160).collect()
                        };
                        view! {
                            <Title text=p.display_name.clone() />
                            <Meta name="description" content=description />
                            <article class="card">
                                <div class="flex items-start justify-between gap-4">
                                    <div>
                                        <h1 class="text-2xl font-bold" data-testid="profile-name">{p.display_name.clone()}</h1>
                                        <p class="text-slate-500 dark:text-slate-400">"@"{p.username.clone()}</p>
                                    </div>
                                    <Show when=move || is_me>
                                        <a href="/settings" class="btn-secondary">"Edit profile"</a>
                                    </Show>
                                </div>
                                <p class="mt-4 whitespace-pre-line" data-testid="profile-bio">{p.bio.clone()}</p>
                            </article>
                        }.into_any()
                    }
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-600">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
