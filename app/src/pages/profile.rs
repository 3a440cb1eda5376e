//! `/u/{username}`: an author — profile, follower counts, a follow button (for a signed-out
//! visitor, a link to sign in and come back), and their subjects (public ones; the author
//! also sees their private and unlisted ones).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::components::layout::CurrentUser;
use crate::components::subject::{SubjectList, noun};
use crate::error::ErrorCode;
use crate::pages::not_found::NotFound;
use crate::subjects::{FollowAuthor, author_page};

#[component]
pub fn ProfilePage() -> impl IntoView {
    let params = use_params_map();
    let username = move || params.read().get("username").unwrap_or_default();
    let follow = ServerAction::<FollowAuthor>::new();
    let author = Resource::new(
        move || (username(), follow.version().get()),
        |(username, _)| author_page(username),
    );
    let me = use_context::<CurrentUser>();
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let signed_in = match me {
                    Some(CurrentUser(me)) => matches!(me.await, Ok(Some(_))),
                    None => false,
                };
                match author.await {
                    Ok(a) => {
                        let p = a.profile.clone();
                        let description = if p.bio.is_empty() {
                            format!("{} on Arbor", p.display_name)
                        } else {
                            p.bio.chars().take(160).collect()
                        };
                        view! {
                            <Title text=p.display_name.clone() />
                            <Meta name="description" content=description.clone() />
                            <Meta property="og:title" content=p.display_name.clone() />
                            <Meta property="og:description" content=description />
                            <Meta property="og:type" content="profile" />
                            <article class="card">
                                <div class="flex items-start justify-between gap-4">
                                    <div>
                                        <h1 class="text-2xl font-bold" data-testid="profile-name">{p.display_name.clone()}</h1>
                                        <p class="text-muted">"@"{p.username.clone()}</p>
                                        <p class="mt-1 text-sm text-muted">
                                            <span data-testid="followers">{a.followers}</span>" "{noun(a.followers, "follower", "followers")}" · "
                                            <span data-testid="following">{a.following}</span>" following"
                                        </p>
                                    </div>
                                    {if a.is_me {
                                        view! { <a href="/settings" class="btn-secondary">"Edit profile"</a> }.into_any()
                                    } else if !signed_in {
                                        let login = format!("/login?next=/u/{}", p.username);
                                        view! { <a href=login class="btn-primary" data-testid="follow-sign-in">"Sign in to follow"</a> }.into_any()
                                    } else {
                                        let label = if a.followed { "Following" } else { "Follow" };
                                        let class = if a.followed { "btn-secondary" } else { "btn-primary" };
                                        view! {
                                            <ActionForm action=follow>
                                                <input type="hidden" name="username" value=p.username.clone() />
                                                <input type="hidden" name="on" value=(!a.followed).to_string() />
                                                <button type="submit" class=class data-testid="follow-button" aria-pressed=a.followed.to_string()>{label}</button>
                                            </ActionForm>
                                        }.into_any()
                                    }}
                                </div>
                                <p class="mt-4 whitespace-pre-line" data-testid="profile-bio">{p.bio.clone()}</p>
                            </article>
                            <section class="mt-8" aria-labelledby="subjects-heading">
                                <h2 id="subjects-heading" class="mb-3 text-xl font-bold">"Subjects"</h2>
                                <SubjectList items=a.subjects empty="No public subjects yet." />
                            </section>
                        }.into_any()
                    }
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
