//! `/settings`: profile, password, personal access tokens and account deletion.

use crate::components::redirect::SignInFirst;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::accounts::{
    ChangePassword, CreateToken, DeleteAccount, EndOtherSessions, RevokeToken, UpdateProfile,
    list_sessions, list_tokens, take_new_token,
};
use crate::components::form::{Field, FormError, action_error, field_error};
use crate::components::layout::CurrentUser;
use crate::model::{Bio, DisplayName, Me, Password, TokenName, format_utc};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let me = expect_context::<CurrentUser>().0;
    view! {
        <Title text="Settings" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! { <Sections me /> }.into_any(),
                    _ => view! { <SignInFirst next="/settings" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Sections(me: Me) -> impl IntoView {
    view! {
        <div class="mx-auto max-w-2xl space-y-8">
            <h1 class="text-2xl font-bold">"Settings"</h1>
            <ProfileSection me=me.clone() />
            <PasswordSection />
            <SessionsSection />
            <TokensSection />
            <DeleteSection />
        </div>
    }
}

/// Whether the page was reached by the redirect after saving `what` (`?saved=…`: a form
/// posted without script gets no result to show).
fn flashed(what: &str) -> bool {
    use_query_map().read_untracked().get("saved").as_deref() == Some(what)
}

#[component]
fn ProfileSection(me: Me) -> impl IntoView {
    let action = ServerAction::<UpdateProfile>::new();
    let error = action_error(action);
    let saved = move || matches!(action.value().get(), Some(Ok(_))) || flashed("profile");
    view! {
        <section class="card space-y-4" aria-labelledby="profile-heading">
            <h2 id="profile-heading" class="text-lg font-semibold">"Profile"</h2>
            <ActionForm action attr:class="space-y-4">
                <FormError error fields=&["display_name", "bio"] />
                <Field label="Display name" name="display_name" value=me.display_name required=true
                    maxlength=DisplayName::MAX error=field_error(error, "display_name") />
                <div class="space-y-1">
                    <label for="bio" class="block text-sm font-medium">"Bio"</label>
                    <textarea id="bio" name="bio" rows="4" maxlength=Bio::MAX class="field-input">{me.bio}</textarea>
                    <p class="text-sm text-danger" role="alert">{move || field_error(error, "bio").get()}</p>
                </div>
                <div class="flex items-center gap-3">
                    <button type="submit" class="btn-primary">"Save profile"</button>
                    <Show when=saved><span class="text-sm text-accent" role="status">"Saved."</span></Show>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn PasswordSection() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = action_error(action);
    let done = move || matches!(action.value().get(), Some(Ok(()))) || flashed("password");
    view! {
        <section class="card space-y-4" aria-labelledby="password-heading">
            <h2 id="password-heading" class="text-lg font-semibold">"Password"</h2>
            <p class="text-sm text-muted">"Changing it signs you out everywhere else. Personal access tokens keep working; revoke any you do not recognise below."</p>
            <ActionForm action attr:class="space-y-4">
                <FormError error fields=&["current_password", "new_password"] />
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password"
                    required=true error=field_error(error, "current_password") />
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                    required=true minlength=Password::MIN maxlength=Password::MAX error=field_error(error, "new_password") />
                <div class="flex items-center gap-3">
                    <button type="submit" class="btn-primary">"Change password"</button>
                    <Show when=done><span class="text-sm text-accent" role="status">"Password changed."</span></Show>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn SessionsSection() -> impl IntoView {
    let end_others = ServerAction::<EndOtherSessions>::new();
    let sessions = Resource::new(move || end_others.version().get(), |_| list_sessions());
    view! {
        <section class="card space-y-4" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading" class="text-lg font-semibold">"Where you are signed in"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => {
                            let others = list.iter().filter(|s| !s.current).count();
                            view! {
                                <ul class="divide-y divide-line text-sm" data-testid="sessions">
                                    {list.into_iter().map(|s| view! {
                                        <li class="flex justify-between py-2">
                                            <span>"Signed in " {format_utc(s.created_at)}</span>
                                            <span class="text-muted">
                                                {if s.current { "this browser".to_owned() } else { format!("last seen {}", format_utc(s.last_seen_at)) }}
                                            </span>
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <Show when=move || { others > 0 }>
                                    <ActionForm action=end_others>
                                        <button type="submit" class="btn-secondary" data-testid="end-other-sessions">
                                            {format!("Sign out the other {others}")}
                                        </button>
                                    </ActionForm>
                                </Show>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="text-sm text-danger">{e.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TokensSection() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    // A token created by a plain form post arrives through a one-time cookie.
    let handed_over = Resource::new(|| (), |_| take_new_token());
    let error = action_error(create);
    let created = move || {
        create
            .value()
            .get()
            .and_then(Result::ok)
            .map(|t| t.token)
            .or_else(|| handed_over.get().and_then(Result::ok).flatten())
    };
    view! {
        <section class="card space-y-4" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading" class="text-lg font-semibold">"Personal access tokens"</h2>
            <p class="text-sm text-muted">
                "For scripts and other clients: send " <code>"Authorization: Bearer <token>"</code> "."
            </p>
            <ActionForm action=create attr:class="flex items-end gap-3">
                <div class="grow">
                    <Field label="Token name" name="name" required=true maxlength=TokenName::MAX error=field_error(error, "name") />
                </div>
                <button type="submit" class="btn-primary mb-6">"Create token"</button>
            </ActionForm>
            <FormError error fields=&["name"] />
            <Suspense fallback=|| ()>
                {move || created().map(|token| view! {
                    <div role="status" class="note-ok p-3">
                        <p class="font-medium">"Copy your new token now — it will not be shown again:"</p>
                        <code class="mt-2 block break-all font-mono" data-testid="new-token">{token}</code>
                    </div>
                })}
            </Suspense>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p class="text-sm text-muted">"No tokens yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="divide-y divide-line">
                                {list.into_iter().map(|t| view! {
                                    <li class="flex items-center justify-between py-2">
                                        <span>
                                            <span class="font-medium">{t.name}</span>
                                            <span class="ml-2 text-xs text-muted">
                                                {if t.last_used_at.is_some() { "used" } else { "never used" }}
                                            </span>
                                        </span>
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="id" value=t.id />
                                            <button type="submit" class="text-sm font-semibold text-danger hover:underline">"Revoke"</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="text-sm text-danger">{e.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DeleteSection() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    let error = action_error(action);
    view! {
        <section class="card space-y-4 border-danger" aria-labelledby="delete-heading">
            <h2 id="delete-heading" class="text-lg font-semibold text-danger">"Delete account"</h2>
            <p class="text-sm text-muted">"This removes your account, signs you out everywhere and revokes your tokens. It cannot be undone."</p>
            <ActionForm action attr:class="space-y-4">
                <FormError error fields=&["password", "confirm"] />
                <Field label="Your password" name="password" kind="password" autocomplete="current-password"
                    required=true error=field_error(error, "password") />
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="confirm" required=true />
                    "I understand that this cannot be undone."
                </label>
                <p class="text-sm text-danger" role="alert">{move || field_error(error, "confirm").get()}</p>
                <button type="submit" class="btn-danger">"Delete my account"</button>
            </ActionForm>
        </section>
    }
}
