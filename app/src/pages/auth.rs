//! `/signup` and `/login`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::accounts::{SignIn, SignUp};
use crate::components::form::{Field, FormError, action_error, field_error};
use crate::model::{Password, Username, local_path_or_root};

/// Where to go after signing in: `?next=` when it is a local path.
fn next_param() -> Signal<String> {
    let query = use_query_map();
    Signal::derive(move || {
        let next = query.get().get("next").unwrap_or_default();
        local_path_or_root(&next).to_owned()
    })
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action);
    let next = next_param();
    view! {
        <Title text="Sign up" />
        <div class="mx-auto max-w-md">
            <h1 class="mb-6 text-2xl font-bold">"Create your account"</h1>
            <div class="card">
                <ActionForm action attr:class="space-y-4">
                    <FormError error fields=&["username", "password"] />
                    <Field label="Username" name="username" autocomplete="username" required=true
                        minlength=Username::MIN maxlength=Username::MAX
                        hint="3–32 letters, digits, '-' or '_'. This is your address: /u/your-name."
                        error=field_error(error, "username") />
                    <Field label="Password" name="password" kind="password" autocomplete="new-password" required=true
                        minlength=Password::MIN maxlength=Password::MAX
                        hint="At least 8 characters, and not one of the common ones."
                        error=field_error(error, "password") />
                    <input type="hidden" name="next" value=next />
                    <button type="submit" class="btn-primary w-full" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Creating…" } else { "Sign up" }}
                    </button>
                </ActionForm>
            </div>
            <p class="mt-4 text-center text-sm text-muted">
                "Already have an account? " <a href="/login" class="font-semibold text-accent underline">"Sign in"</a>
            </p>
        </div>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = action_error(action);
    let next = next_param();
    view! {
        <Title text="Sign in" />
        <div class="mx-auto max-w-md">
            <h1 class="mb-6 text-2xl font-bold">"Sign in"</h1>
            <div class="card">
                <ActionForm action attr:class="space-y-4">
                    <FormError error fields=&["username"] />
                    <Field label="Username" name="username" autocomplete="username" required=true
                        maxlength=Username::MAX error=field_error(error, "username") />
                    <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true
                        maxlength=Password::MAX error=Signal::derive(|| None::<String>) />
                    <input type="hidden" name="next" value=next />
                    <button type="submit" class="btn-primary w-full" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
            <p class="mt-4 text-center text-sm text-muted">
                "New here? " <a href="/signup" class="font-semibold text-accent underline">"Create an account"</a>
            </p>
        </div>
    }
}
