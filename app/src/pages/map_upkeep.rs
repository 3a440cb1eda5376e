//! The map's housekeeping on a subject's settings page: importing a file (pasted, so the form
//! works without JavaScript; with it, chosen or dropped on the form: the `ImportPicker`
//! island reads it into the form), the import history (download, roll back) and the trash
//! (restore). Exports are links on the subject page itself.

use leptos::prelude::*;

use crate::components::form::{Field, FileText, FormError, action_error, field_error};
use crate::content::{ImportItem, TrashItem};
use crate::model::format_utc;
use crate::subjects::{ImportFile, RestoreTopic, RollbackImport, subject_upkeep};

#[component]
pub fn MapUpkeepSection(slug: String, is_owner: bool) -> impl IntoView {
    let import = ServerAction::<ImportFile>::new();
    let restore = ServerAction::<RestoreTopic>::new();
    let rollback = ServerAction::<RollbackImport>::new();
    let import_error = action_error(import);
    let restore_error = action_error(restore);
    let rollback_error = action_error(rollback);
    let key = slug.clone();
    let upkeep = Resource::new(
        move || {
            (
                key.clone(),
                restore.version().get(),
                rollback.version().get(),
            )
        },
        |(slug, _, _)| subject_upkeep(slug),
    );
    let slug_form = slug.clone();
    view! {
        <section class="card space-y-4" aria-labelledby="import-heading">
            <h2 id="import-heading" class="text-lg font-semibold">"Import a map"</h2>
            <p class="text-sm text-muted">
                "Replaces this subject's topics with a Markdown outline (headings or a bulleted list), a plain-text outline (Workflowy, Dynalist, Logseq), OPML, FreeMind (.mm) or Arbor JSON file. The current topics go to the trash, and the owner can roll the import back."
            </p>
            <ActionForm action=import attr:class="space-y-3">
                <FormError error=import_error fields=&["filename", "format", "content"] />
                <input type="hidden" name="slug" value=slug_form />
                <div class="flex flex-wrap gap-2">
                    <div class="min-w-64 flex-1">
                        <Field label="File name" name="filename" id="import-filename" required=true hint="e.g. outline.md" error=field_error(import_error, "filename") />
                    </div>
                    <div class="space-y-1">
                        <label for="import-format" class="block text-sm font-medium">"Format"</label>
                        <select id="import-format" name="format" class="field-input">
                            <option value="">"From the file name"</option>
                            <option value="markdown">"Markdown outline"</option>
                            <option value="opml">"OPML"</option>
                            <option value="freemind">"FreeMind"</option>
                            <option value="json">"Arbor JSON"</option>
                        </select>
                    </div>
                </div>
                <FileText prefix="import" rows=8 error=import_error />
                <button type="submit" class="btn-primary" data-testid="import-submit">"Import"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let slug = slug.clone();
                Suspend::new(async move {
                    let upkeep = upkeep.await.unwrap_or_default();
                    view! {
                        <History items=upkeep.imports slug=slug.clone() is_owner rollback error=rollback_error />
                        <Trash items=upkeep.trash slug restore error=restore_error />
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn History(
    items: Vec<ImportItem>,
    slug: String,
    is_owner: bool,
    rollback: ServerAction<RollbackImport>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <section class="card space-y-3" aria-labelledby="history-heading">
            <h2 id="history-heading" class="text-lg font-semibold">"Import history"</h2>
            <FormError error fields=&[] />
            {items.is_empty().then(|| view! { <p class="text-sm text-muted">"Nothing imported yet."</p> })}
            <ul class="divide-y divide-line" data-testid="imports">
                {items.into_iter().map(|item| {
                    let download = format!("/api/v1/subjects/{slug}/imports/{}/source", item.id);
                    let who = item.username.clone().map(|u| format!(" by @{u}")).unwrap_or_default();
                    let slug = slug.clone();
                    view! {
                        <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                            <span>
                                <a href=download rel="external" class="font-medium hover:underline" download=item.filename.clone()>{item.filename.clone()}</a>
                                " ("{item.format}", "{item.topics}" topics) "{format_utc(item.created_at)}{who}
                                {item.rolled_back_at.map(|at| view! { <em class="text-muted">" — rolled back "{format_utc(at)}</em> })}
                            </span>
                            {(is_owner && item.rolled_back_at.is_none()).then(|| view! {
                                <ActionForm action=rollback>
                                    <input type="hidden" name="slug" value=slug />
                                    <input type="hidden" name="id" value=item.id.to_string() />
                                    <button type="submit" class="btn-secondary" data-testid="rollback">"Roll back"</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Trash(
    items: Vec<TrashItem>,
    slug: String,
    restore: ServerAction<RestoreTopic>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <section class="card space-y-3" aria-labelledby="trash-heading">
            <h2 id="trash-heading" class="text-lg font-semibold">"Trash"</h2>
            <p class="text-sm text-muted">"Deleted topics wait here for 30 days, with everything under them."</p>
            <FormError error fields=&[] />
            {items.is_empty().then(|| view! { <p class="text-sm text-muted">"The trash is empty."</p> })}
            <ul class="divide-y divide-line" data-testid="trash">
                {items.into_iter().map(|item| {
                    let slug = slug.clone();
                    view! {
                        <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                            <span><strong>{item.title}</strong>" ("{item.topics}" topics) deleted "{format_utc(item.deleted_at)}</span>
                            <ActionForm action=restore>
                                <input type="hidden" name="slug" value=slug />
                                <input type="hidden" name="id" value=item.id.to_string() />
                                <button type="submit" class="btn-secondary" data-testid="restore">"Restore"</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
