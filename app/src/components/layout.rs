//! The page frame: the header with the site name and the user menu.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::accounts::{SignOut, current_user};
use crate::components::islands::MenuKeys;
use crate::model::Me;

/// The signed-in person as the header knows them; pages may read it from context.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, crate::error::AppError>>);

#[component]
pub fn Header() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    // Asked once per page: every page is rendered on the server whole (`SsrMode::Async`), and
    // every navigation and form post loads a page. (Not `new_blocking`: in islands mode a
    // blocking resource is fetched again after the page is sent, outside the request.)
    let user = Resource::new(move || sign_out.version().get(), |_| current_user());
    provide_context(CurrentUser(user));

    view! {
        <header class="border-b border-line bg-surface/80 backdrop-blur">
            <nav class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3 sm:px-6" aria-label="Main">
                <A href="/" attr:class="flex items-center gap-2 text-lg font-bold tracking-tight text-accent">
                    <svg aria-hidden="true" viewBox="0 0 24 24" class="h-6 w-6" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                        <circle cx="12" cy="5" r="2.5" />
                        <circle cx="5" cy="17" r="2.5" />
                        <circle cx="19" cy="17" r="2.5" />
                        <path d="M12 7.5v4M12 11.5 6.5 15M12 11.5l5.5 3.5" />
                    </svg>
                    "Arbor"
                </A>
                <div class="flex flex-1 items-center gap-4 text-sm font-medium">
                    <A href="/explore" attr:class="inline-flex min-h-6 items-center hover:underline">"Explore"</A>
                    <A href="/saved" attr:class="inline-flex min-h-6 items-center hover:underline">"Saved"</A>
                </div>
                <Transition fallback=|| view! { <span class="text-sm text-muted">"…"</span> }>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(me)) => view! { <UserMenu me sign_out /> }.into_any(),
                            _ => view! { <SignedOutLinks /> }.into_any(),
                        }
                    })}
                </Transition>
            </nav>
        </header>
    }
}

#[component]
fn SignedOutLinks() -> impl IntoView {
    view! {
        <div class="flex items-center gap-2">
            <A href="/login" attr:class="btn-secondary">"Sign in"</A>
            <A href="/signup" attr:class="btn-primary">"Sign up"</A>
        </div>
    }
}

/// A disclosure menu: `<details>` opens and closes without JavaScript and by keyboard; with
/// JavaScript, Escape or a click outside also closes it ([`MenuKeys`]).
#[component]
fn UserMenu(me: Me, sign_out: ServerAction<SignOut>) -> impl IntoView {
    let profile = format!("/u/{}", me.username);
    view! {
        <details class="group relative" data-testid="user-menu">
            <summary class="flex min-h-10 cursor-pointer list-none items-center gap-2 rounded-md px-3 py-2 text-sm font-medium hover:bg-raised">
                <span class="grid h-7 w-7 place-items-center rounded-full bg-accent-fill text-xs font-bold uppercase text-on-accent" aria-hidden="true">
                    {me.display_name.chars().next().unwrap_or('?').to_string()}
                </span>
                <span data-testid="header-username">{me.username.clone()}</span>
                <span aria-hidden="true" class="text-muted group-open:rotate-180">"▾"</span>
            </summary>
            <MenuKeys />
            <div class="absolute right-0 z-10 mt-2 w-48 rounded-md border border-line bg-surface py-1 shadow-lg">
                <p class="truncate px-4 py-2 text-xs text-muted">{me.display_name.clone()}</p>
                <a href="/new" class="block px-4 py-2 text-sm hover:bg-raised">"New subject"</a>
                <a href=profile class="block px-4 py-2 text-sm hover:bg-raised">"Your profile"</a>
                <a href="/settings" class="block px-4 py-2 text-sm hover:bg-raised">"Settings"</a>
                <ActionForm action=sign_out>
                    <button type="submit" data-testid="sign-out" class="block w-full px-4 py-2 text-left text-sm hover:bg-raised">
                        "Sign out"
                    </button>
                </ActionForm>
            </div>
        </details>
    }
}
