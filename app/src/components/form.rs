//! Form fields that show their server-side error inline, with or without JavaScript, and the
//! text of a file to import (chosen, dropped or pasted).

use leptos::prelude::*;

use crate::components::islands::{ImportPicker, KeepDraft};
use crate::error::AppError;

/// The error of the last submission of `action`, if it failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// The message for `field` in `error`, if the error is about that field.
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.for_field(field)))
}

/// A labelled input with its inline error.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    /// The element id, when several forms on a page have a field of the same name.
    #[prop(optional)]
    id: Option<&'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(optional, into)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] minlength: Option<usize>,
    #[prop(optional)] maxlength: Option<usize>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = format!("{hint_id} {error_id}");
    view! {
        <div class="space-y-1">
            <label for=id class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                value=value
                autocomplete=autocomplete
                required=required
                minlength=minlength
                maxlength=maxlength
                aria-describedby=described
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                class="field-input"
            />
            {hint.map(|h| view! { <p id=hint_id class="text-xs text-muted">{h}</p> })}
            <p id=error_id class="text-sm text-danger" role="alert" data-testid=format!("error-{id}")>
                {move || error.get()}
            </p>
        </div>
    }
}

/// An error about the whole form (or about a field the form does not show); it also keeps
/// what was typed into the form across a failed submission ([`KeepDraft`]).
#[component]
pub fn FormError(
    error: Signal<Option<AppError>>,
    #[prop(optional)] fields: &'static [&'static str],
) -> impl IntoView {
    let message = move || {
        error
            .get()
            .filter(|e| e.field.as_deref().is_none_or(|f| !fields.contains(&f)))
            .map(|e| e.message)
    };
    view! {
        <Show when=move || message().is_some()>
            <div role="alert" data-testid="form-error" class="note-bad">
                {message}
            </div>
        </Show>
        <KeepDraft />
    }
}

/// A file's text for a form that imports one: with JavaScript, a file chosen with its picker
/// or dropped on the form fills the text (and the form's `filename` field), read in the
/// browser by the `ImportPicker` island; without, the text is pasted. `prefix` names the ids
/// and test ids (`{prefix}-file`, `{prefix}-content`, `{prefix}-error`).
#[component]
pub fn FileText(prefix: &'static str, rows: u32, error: Signal<Option<AppError>>) -> impl IntoView {
    let (file, content, said) = (
        format!("{prefix}-file"),
        format!("{prefix}-content"),
        format!("{prefix}-error"),
    );
    view! {
        <div data-role="picker" hidden=true class="space-y-1">
            <label for=file.clone() class="block text-sm font-medium">"Choose a file, or drop one on this form"</label>
            <input id=file.clone() type="file" accept=".md,.markdown,.txt,.opml,.mm,.json" class="field-input" data-testid=file />
            <p data-role="picker-error" role="alert" class="text-sm text-danger"></p>
        </div>
        <ImportPicker />
        <div class="space-y-1">
            <label for=content.clone() class="block text-sm font-medium">"The file's text"</label>
            <textarea id=content.clone() name="content" rows=rows required class="field-input font-mono text-sm" data-testid=content></textarea>
            <p class="text-sm text-danger" role="alert" data-testid=said>{move || field_error(error, "content").get()}</p>
        </div>
    }
}
