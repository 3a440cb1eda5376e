//! `/s/{slug}/edit`: the subject's map, live, as wide as the window allows. Owners and editors
//! shape it with the keyboard, the mouse and touch (the "+" beside the selection, the topic's
//! menu, renaming on the topic) while others do the same; viewers follow it read-only. The
//! view and the connection are the `arbor-editor` module's (`data-kind="map"`, loaded only
//! here); the selected topic's body opens in a drawer over the map in the module's live text
//! editor. Without JavaScript the page shows the map as last saved.

use arbor_map::treeview::{self, Focus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::assets::editor_module;
use crate::components::islands::StartEditor;
use crate::components::layout::CurrentUser;
use crate::components::subject::map_node;
use crate::content::SubjectDetail;
use crate::error::ErrorCode;
use crate::model::Me;
use crate::pages::not_found::NotFound;
use crate::subjects::get_subject;

#[component]
pub fn MapEditorPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let detail = Resource::new(slug, |slug| get_subject(slug, None));
    let me = use_context::<CurrentUser>();
    view! {
        <Title text="Edit the map" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = match me {
                    Some(CurrentUser(me)) => me.await.ok().flatten(),
                    None => None,
                };
                match detail.await {
                    Ok(detail) => view! { <MapEditor detail user /> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MapEditor(detail: SubjectDetail, user: Option<Me>) -> impl IntoView {
    let slug = detail.subject.slug.clone();
    let back = format!("/s/{slug}");
    let can_edit = detail.reader.can_edit;
    let (name, account) = user
        .map(|me| (me.display_name, me.username))
        .unwrap_or_default();
    let user_data = (name.clone(), account.clone(), can_edit);
    // Before the module draws it, the map as last saved, with its tree for assistive
    // technology.
    let canvas = format!(
        "{}{}",
        detail.map_svg,
        treeview::html(&map_node(&detail.root, &slug, &[]), "", Focus::Container)
    );
    let help = if can_edit {
        "Tab: new subtopic · Enter: new topic after · F2 or typing: rename · Delete: delete · ↓ ↑: next and previous topic · → ←: unfold or go in, fold or go out · Home / End: first and last topic · Space or the circle at its edge: fold · Ctrl+Z / Ctrl+Shift+Z: undo / redo your changes · Ctrl+↑ / Ctrl+↓: reorder · Ctrl+← / Ctrl+→: out of its parent, into the topic before · drag a topic onto another to move it there, or onto its top or bottom edge to put it before or after · drag the background or use the wheel to pan, Ctrl+wheel or pinch to zoom · the + beside a topic adds a subtopic or a topic after it · right-click, long-press, the menu key or Shift+F10: the topic's menu"
    } else {
        "View only: you see others' changes live. ↓ ↑ → ← Home End move through the topics; drag the background or use the wheel to pan, Ctrl+wheel or pinch to zoom, Space or the circle at a topic's edge to fold; right-click, long-press or Shift+F10 for a topic's menu."
    };
    view! {
        <div class="space-y-4" data-page-wide="">
            <h1 class="text-2xl font-bold">
                "Map of "<a href=back class="text-accent underline hover:no-underline">{detail.subject.title.clone()}</a>
            </h1>
            <div data-live-root="" data-module=editor_module() data-kind="map" data-doc=detail.map_document.clone() data-slug=slug
                data-user=name data-account=account data-can-edit=can_edit.to_string() data-link="loading"
                class="card space-y-3 p-3 sm:p-4" data-testid="map-editor">
                // Two rows whose heights do not change as the status does (a longer status, or
                // someone arriving, must not move the map under a finger): one line of status
                // and people, cut short when narrow; then the buttons, always the same ones.
                <div class="flex flex-wrap items-center gap-x-3 gap-y-2 text-sm">
                    <div class="flex min-w-0 basis-full items-center gap-3 overflow-hidden whitespace-nowrap lg:basis-auto lg:flex-1">
                        <span data-role="status" class="min-w-0 shrink truncate font-medium text-muted" data-testid="map-status">"Connecting…"</span>
                        <span data-role="announce" aria-live="polite" class="sr-only" data-testid="map-announce"></span>
                        <ul data-role="people" aria-label="Who is here" class="flex min-w-0 flex-nowrap gap-3 overflow-hidden" data-testid="people"></ul>
                    </div>
                    <span class="ml-auto flex flex-wrap gap-2">
                        <a data-role="open" class="btn-secondary" data-off="" data-testid="open-topic">"Open the topic"</a>
                        <button type="button" data-role="text-toggle" class="btn-secondary" aria-pressed="false" aria-controls="map-drawer" title="The selected topic's text beside the map" data-testid="text-toggle">"Text"</button>
                        <button type="button" data-role="zoom-out" class="btn-secondary" title="Zoom out (Ctrl+−)" aria-label="Zoom out" data-testid="map-zoom-out">"−"</button>
                        <button type="button" data-role="fit" class="btn-secondary" title="Fit the map to the screen (Ctrl+0)" data-testid="map-fit">"Fit"</button>
                        <button type="button" data-role="zoom-in" class="btn-secondary" title="Zoom in (Ctrl+=)" aria-label="Zoom in" data-testid="map-zoom-in">"+"</button>
                        <button type="button" data-role="undo" class="btn-secondary" disabled=true title="Undo your last change (Ctrl+Z)" data-testid="map-undo">"Undo"</button>
                        <button type="button" data-role="redo" class="btn-secondary" disabled=true title="Redo (Ctrl+Shift+Z)" data-testid="map-redo">"Redo"</button>
                    </span>
                </div>
                <div class="map-stage" data-testid="map-stage">
                    <div data-role="canvas" tabindex="0" role="tree" class="map-canvas" aria-label="Mind map" aria-describedby="map-keys" data-testid="map-canvas" inner_html=canvas></div>
                    <input data-role="rename" hidden=true class="map-rename field-input" aria-label="Topic title" maxlength="120" data-testid="map-rename" />
                    <div data-role="notice" hidden=true class="map-notice" data-testid="map-notice">
                        <span data-role="notice-text"></span>
                        <button type="button" data-role="notice-restore" class="btn-primary" data-testid="notice-restore">"Restore"</button>
                        <button type="button" data-role="notice-dismiss" class="btn-secondary" aria-label="Dismiss">"×"</button>
                    </div>
                    {panel(user_data)}
                </div>
                <p id="map-keys" class="text-sm text-muted">{help}</p>
                {menu()}
                <StartEditor />
            </div>
        </div>
    }
}

/// The topic's menu (`arbor-editor`'s `commands.rs`): opened by a right click, a long press,
/// the context-menu key or Shift+F10; each item a command that a key also does.
fn menu() -> AnyView {
    let items = [
        ("add-child", "Add a subtopic", "Tab"),
        ("add-after", "Add a topic after", "Enter"),
        ("rename", "Rename", "F2"),
        ("text", "Edit the text", ""),
        ("open", "Open the topic's page", ""),
        ("fold", "Fold or unfold", "Space"),
        ("move-up", "Move up", "Ctrl+↑"),
        ("move-down", "Move down", "Ctrl+↓"),
        ("outdent", "Move out of its parent", "Ctrl+←"),
        ("indent", "Move into the topic before", "Ctrl+→"),
        ("delete", "Delete", "Delete"),
    ];
    view! {
        <div data-role="menu" role="menu" aria-label="Topic" hidden=true class="map-menu" data-testid="map-menu">
            {items.into_iter().map(|(command, label, key)| view! {
                <button type="button" role="menuitem" tabindex="-1" data-command=command class="map-menu-item">
                    <span>{label}</span>
                    {(!key.is_empty()).then(|| view! { <kbd class="text-xs text-muted">{key}</kbd> })}
                </button>
            }).collect_view()}
        </div>
    }
    .into_any()
}

/// The drawer over the map's right side (a bottom sheet on a phone): the selected topic's body
/// in the live text editor (mounted by the map view; its parts as on a topic's edit page).
fn panel((name, account, can_edit): (String, String, bool)) -> AnyView {
    view! {
        <aside data-role="panel" id="map-drawer" hidden=true class="map-drawer space-y-3" aria-label="The selected topic" data-testid="topic-panel">
            <div class="flex items-start gap-2">
                <h2 data-role="panel-title" class="flex-1 text-lg font-semibold" data-testid="panel-title"></h2>
                <button type="button" data-role="panel-close" class="btn-secondary" aria-label="Close the text" title="Close" data-testid="panel-close">"×"</button>
            </div>
            <div data-role="panel-editor" data-user=name data-account=account data-can-edit=can_edit.to_string()
                data-link="loading" class="space-y-3" data-testid="panel-editor">
                <div class="flex flex-wrap items-center gap-3 text-sm">
                    <span data-role="status" class="font-medium text-muted" data-testid="panel-status">"Connecting…"</span>
                    <span data-role="announce" aria-live="polite" class="sr-only"></span>
                    <ul data-role="people" aria-label="Who is editing this topic" class="flex flex-wrap gap-3"></ul>
                    <span class="ml-auto flex flex-wrap gap-2">
                        <button type="button" data-role="undo" class="btn-secondary" disabled=true title="Undo your last change to the text">"Undo"</button>
                        <button type="button" data-role="redo" class="btn-secondary" disabled=true title="Redo">"Redo"</button>
                    </span>
                </div>
                <div class="live-pane">
                    <textarea data-role="input" class="live-text" aria-label="Body (markdown)" readonly=true data-testid="panel-input"></textarea>
                    <div data-role="carets" class="live-text live-carets" aria-hidden="true"></div>
                </div>
                <p class="text-xs text-muted" data-testid="link-hint">"Type [[ to link one of this subject's topics, as [[Title]]; [[subject-slug/Title]] links another subject's."</p>
                <div data-role="preview" aria-label="Preview" data-testid="panel-preview" class="prose max-w-none space-y-4 leading-relaxed [&_a]:text-accent [&_a]:underline"></div>
            </div>
        </aside>
    }
    .into_any()
}
