//! `/s/{slug}/t/{id}-{title words}`: a topic — breadcrumbs to the root, the rendered body,
//! children, outgoing links and the first backlinks, previous/next in reading order. Only the
//! id finds the topic; any other words (an old title), or none, are redirected (301) to the
//! current ones (`content::topic_path`).
//! `/s/{slug}/t/{id}…/backlinks?cursor=`: the rest of its backlinks, a page at a time. `/s/{slug}/t/{id}…/edit`: its
//! body in the live editor (the `arbor-editor` module, loaded only here; a plain form without
//! JavaScript), its title, and the tree actions: add a child or a sibling, move, delete.
//! People who may only read the topic see the same page live and read-only.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::assets::editor_module;
use crate::components::form::{Field, FormError, action_error, field_error};
use crate::components::islands::StartEditor;
use crate::components::layout::CurrentUser;
use crate::components::redirect::Canonical;
use crate::components::subject::VisibilityBadge;
use crate::content::{
    BacklinkPage, Body, Title as TitleRule, TopicDetail, TopicNode, TopicRef, topic_id, topic_path,
};
use crate::error::ErrorCode;
use crate::model::Me;
use crate::pages::not_found::NotFound;
use crate::subjects::{
    CreateTopic, DeleteTopic, MoveTopic, UpdateTopic, get_backlinks, get_subject, get_topic,
};

fn topic_params() -> (impl Fn() -> String + Copy, impl Fn() -> i64 + Copy) {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| topic_id(&id))
            .unwrap_or(0)
    };
    (slug, id)
}

fn ref_list(refs: Vec<TopicRef>, testid: &'static str, empty: &'static str) -> AnyView {
    if refs.is_empty() {
        return view! { <p class="text-sm text-muted">{empty}</p> }.into_any();
    }
    view! {
        <ul class="space-y-1" data-testid=testid>
            {refs.into_iter().map(|r| {
                let href = r.href();
                view! {
                    <li>
                        <a href=href class="text-accent hover:underline">{r.title}</a>
                        {r.subject_title.map(|s| view! { <span class="text-xs text-muted">" in "{s}</span> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
pub fn TopicPage() -> impl IntoView {
    let (slug, id) = topic_params();
    let detail = Resource::new(move || (slug(), id()), |(slug, id)| get_topic(slug, id));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <TopicView detail /> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound || e.code == ErrorCode::BadRequest => view! { <NotFound /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The backlinks of a topic from the `cursor` on, with a link to the next page.
#[component]
pub fn BacklinksPage() -> impl IntoView {
    let (slug, id) = topic_params();
    let query = use_query_map();
    let cursor = move || query.read().get("cursor");
    let page = Resource::new(
        move || (slug(), id(), cursor()),
        |(slug, id, cursor)| get_backlinks(slug, id, cursor),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let title = format!("Linked from — {}", page.topic.title);
                        let next = page.next_cursor.as_deref().map(|cursor| BacklinkPage::href(&page.topic, cursor));
                        let canonical = format!("{}/backlinks", page.topic.href());
                        view! {
                            <Canonical path=canonical />
                            <Title text=title />
                            <Meta name="robots" content="noindex" />
                            <section class="card mx-auto max-w-3xl space-y-3 p-4">
                                <h1 class="text-xl font-semibold">
                                    "Linked from "<a href=page.topic.href() class="hover:underline">{page.topic.title.clone()}</a>
                                </h1>
                                {ref_list(page.backlinks, "backlinks", "Nothing more links here.")}
                                {next.map(|href| view! { <a href=href class="text-sm hover:underline" data-testid="more-backlinks">"More →"</a> })}
                            </section>
                        }.into_any()
                    }
                    Err(e) if e.code == ErrorCode::NotFound || e.code == ErrorCode::BadRequest => view! { <NotFound /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TopicView(detail: TopicDetail) -> impl IntoView {
    let this = TopicRef {
        id: detail.id,
        title: detail.title.clone(),
        subject_slug: detail.subject.slug.clone(),
        subject_title: None,
    };
    let subject_href = format!("/s/{}", detail.subject.slug);
    let path = this.href();
    let edit_href = format!("{path}/edit");
    let description: String = {
        let text = detail.body.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            format!("{} in {}", detail.title, detail.subject.title)
        } else {
            text.chars().take(200).collect()
        }
    };
    let page_title = format!("{} · {}", detail.title, detail.subject.title);
    view! {
        <Canonical path />
        <Title text=page_title.clone() />
        <Meta name="description" content=description.clone() />
        <Meta property="og:title" content=page_title />
        <Meta property="og:description" content=description />
        <Meta property="og:type" content="article" />
        <article class="space-y-6">
            <nav aria-label="Breadcrumbs" class="flex flex-wrap items-center gap-1 text-sm text-muted" data-testid="breadcrumbs">
                <a href=subject_href class="font-medium hover:underline">{detail.subject.title.clone()}</a>
                <VisibilityBadge visibility=detail.subject.visibility />
                {detail.breadcrumbs.iter().skip(1).map(|b| {
                    let href = b.href();
                    let title = b.title.clone();
                    view! { <span aria-hidden="true">"›"</span><a href=href class="hover:underline">{title}</a> }
                }).collect_view()}
            </nav>
            <header class="flex items-start justify-between gap-4">
                <h1 class="text-3xl font-bold" data-testid="topic-title">{detail.title.clone()}</h1>
                {if detail.reader.can_edit {
                    Some(view! { <a href=edit_href class="btn-secondary" data-testid="edit-topic">"Edit"</a> }.into_any())
                } else if detail.reader.signed_in {
                    Some(view! { <a href=edit_href class="btn-secondary" data-testid="watch-topic">"Follow live"</a> }.into_any())
                } else {
                    None
                }}
            </header>
            <div class="prose max-w-none space-y-4 leading-relaxed [&_a]:text-accent [&_a]:underline [&_h2]:text-xl [&_h2]:font-semibold [&_pre]:overflow-x-auto [&_pre]:rounded [&_pre]:bg-raised [&_pre]:p-3 [&_table]:border-collapse [&_td]:border [&_td]:px-2 [&_th]:border [&_th]:px-2 [&_ul]:list-disc [&_ul]:pl-6 [&_ol]:list-decimal [&_ol]:pl-6"
                data-testid="topic-body" inner_html=detail.html.clone() />
            <div class="grid gap-4 sm:grid-cols-3">
                <section class="card p-4" aria-labelledby="children-heading">
                    <h2 id="children-heading" class="mb-2 text-sm font-semibold uppercase tracking-wide text-muted">"Subtopics"</h2>
                    {ref_list(detail.children.clone(), "children", "None.")}
                </section>
                <section class="card p-4" aria-labelledby="links-heading">
                    <h2 id="links-heading" class="mb-2 text-sm font-semibold uppercase tracking-wide text-muted">"Links to"</h2>
                    {ref_list(detail.links.clone(), "links", "None.")}
                </section>
                <section class="card p-4" aria-labelledby="backlinks-heading">
                    <h2 id="backlinks-heading" class="mb-2 text-sm font-semibold uppercase tracking-wide text-muted">"Linked from"</h2>
                    {ref_list(detail.backlinks.clone(), "backlinks", "Nothing links here yet.")}
                    {detail.backlinks_cursor.clone().map(|cursor| {
                        let href = BacklinkPage::href(&this, &cursor);
                        view! { <a href=href class="mt-2 inline-block text-sm hover:underline" data-testid="more-backlinks">"More →"</a> }
                    })}
                </section>
            </div>
            <nav aria-label="Reading order" class="flex justify-between gap-4 border-t border-line pt-4">
                {detail.previous.clone().map(|p| view! { <a href=p.href() rel="prev" class="hover:underline" data-testid="previous">"← "{p.title.clone()}</a> })}
                <span></span>
                {detail.next.clone().map(|n| view! { <a href=n.href() rel="next" class="hover:underline" data-testid="next">{n.title.clone()}" →"</a> })}
            </nav>
        </article>
    }
}

/// Every topic of the tree as (id, indented title), in reading order, for the move form.
fn flatten(node: &TopicNode, depth: usize, out: &mut Vec<(i64, String)>) {
    out.push((node.id, format!("{}{}", "— ".repeat(depth), node.title)));
    for child in &node.children {
        flatten(child, depth + 1, out);
    }
}

#[component]
pub fn TopicEditPage() -> impl IntoView {
    let (slug, id) = topic_params();
    let detail = Resource::new(move || (slug(), id()), |(slug, id)| get_topic(slug, id));
    let tree = Resource::new(slug, |slug| get_subject(slug, None));
    let me = use_context::<CurrentUser>();
    view! {
        <Title text="Edit topic" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = match me {
                    Some(CurrentUser(me)) => me.await.ok().flatten(),
                    None => None,
                };
                match (detail.await, tree.await) {
                    (Ok(detail), Ok(tree)) if detail.reader.can_edit => {
                        let mut topics = Vec::new();
                        flatten(&tree.root, 0, &mut topics);
                        view! { <TopicEditor detail topics user /> }.into_any()
                    }
                    (Ok(detail), Ok(_)) => view! { <TopicWatcher detail user /> }.into_any(),
                    (Err(e), _) | (_, Err(e)) if e.code == ErrorCode::NotFound => view! { <NotFound /> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The live editor of a topic's body: the text area bound to the shared document, the
/// others' carets over it, who is here, undo and redo of your own changes, the connection
/// and save state, and the preview. `children` is what browsers without JavaScript get
/// instead (hidden once the editor runs).
#[component]
fn LiveBody(
    detail: TopicDetail,
    user: Option<Me>,
    can_edit: bool,
    children: Children,
) -> impl IntoView {
    let preview = format!(
        "/api/v1/subjects/{}/topics/{}/preview",
        detail.subject.slug, detail.id
    );
    let doc = format!("topic:{}", detail.id);
    let (name, account) = user
        .map(|me| (me.display_name, me.username))
        .unwrap_or_default();
    let body = detail.body.clone();
    let html = detail.html.clone();
    // Its own view: nested in the page's, the type would be too deep for rustc.
    let live = view! {
        <div data-role="live" hidden=true class="space-y-3">
            <div class="flex flex-wrap items-center gap-3 text-sm">
                <span data-role="status" class="font-medium text-muted" data-testid="live-status">"Connecting…"</span>
                    <span data-role="announce" aria-live="polite" class="sr-only" data-testid="live-announce"></span>
                <ul data-role="people" aria-label="Who is here" class="flex flex-wrap gap-3" data-testid="people"></ul>
                <span class="ml-auto flex flex-wrap gap-2">
                    <button type="button" data-role="undo" class="btn-secondary" disabled=true title="Undo your last change (Ctrl+Z)" data-testid="undo">"Undo"</button>
                    <button type="button" data-role="redo" class="btn-secondary" disabled=true title="Redo (Ctrl+Shift+Z)" data-testid="redo">"Redo"</button>
                </span>
            </div>
            <div class="grid gap-4 lg:grid-cols-2">
                <div class="live-pane">
                    <textarea data-role="input" class="live-text" aria-label="Body (markdown)" readonly=true data-testid="live-input">{body}</textarea>
                    <div data-role="carets" class="live-text live-carets" aria-hidden="true"></div>
                </div>
                <p class="text-xs text-muted" data-testid="link-hint">"Type [[ to link one of this subject's topics, as [[Title]]; [[subject-slug/Title]] links another subject's."</p>
                <div data-role="preview" role="region" aria-label="Preview" data-testid="live-preview"
                    class="prose max-w-none space-y-4 overflow-y-auto leading-relaxed lg:h-[32rem] [&_a]:text-accent [&_a]:underline [&_h2]:text-xl [&_h2]:font-semibold [&_pre]:overflow-x-auto [&_pre]:rounded [&_pre]:bg-raised [&_pre]:p-3 [&_ul]:list-disc [&_ul]:pl-6 [&_ol]:list-decimal [&_ol]:pl-6"
                    inner_html=html></div>
            </div>
        </div>
    }
    .into_any();
    view! {
        <div data-live-root="" data-module=editor_module() class="space-y-3" data-testid="live-editor" data-doc=doc
            data-preview=preview data-previewed="true" data-user=name data-account=account data-can-edit=can_edit.to_string()
            data-link="loading">
            <div data-role="fallback">{children()}</div>
            {live}
            <StartEditor />
        </div>
    }
    .into_any()
}

/// The edit page for someone who may only read: the body live, read-only.
#[component]
fn TopicWatcher(detail: TopicDetail, user: Option<Me>) -> impl IntoView {
    let view_href = topic_path(&detail.subject.slug, detail.id, &detail.title);
    let title = detail.title.clone();
    let html = detail.html.clone();
    view! {
        <Canonical path=format!("{view_href}/edit") />
        <div class="space-y-6">
            <h1 class="text-2xl font-bold">
                <a href=view_href class="text-accent hover:underline">{title}</a>
                <span class="ml-3 align-middle text-sm font-normal text-muted">"View only"</span>
            </h1>
            <section class="card" aria-label="Text">
                <LiveBody detail user can_edit=false>
                    <p class="text-sm text-muted">"Following changes live needs JavaScript; this is the text as last saved."</p>
                    <div class="prose max-w-none" inner_html=html></div>
                </LiveBody>
            </section>
        </div>
    }
    .into_any()
}

#[component]
fn TopicEditor(detail: TopicDetail, topics: Vec<(i64, String)>, user: Option<Me>) -> impl IntoView {
    let slug = detail.subject.slug.clone();
    let id = detail.id.to_string();
    let is_root = detail.parent_id.is_none();
    let update = ServerAction::<UpdateTopic>::new();
    let update_error = action_error(update);
    let rename = ServerAction::<UpdateTopic>::new();
    let rename_error = action_error(rename);
    let add_child = ServerAction::<CreateTopic>::new();
    let child_error = action_error(add_child);
    let add_sibling = ServerAction::<CreateTopic>::new();
    let sibling_error = action_error(add_sibling);
    let move_action = ServerAction::<MoveTopic>::new();
    let move_error = action_error(move_action);
    let delete = ServerAction::<DeleteTopic>::new();
    let delete_error = action_error(delete);
    let view_href = topic_path(&slug, detail.id, &detail.title);
    let canonical = format!("{view_href}/edit");
    let parent = detail.parent_id;
    let (slug_s, id_s, slug_m, id_m, slug_d, id_d) = (
        slug.clone(),
        id.clone(),
        slug.clone(),
        id.clone(),
        slug.clone(),
        id.clone(),
    );
    let (slug_u, id_u, slug_c, id_c) = (slug.clone(), id.clone(), slug.clone(), id.clone());
    let (slug_r, id_r) = (slug, id);
    let body = detail.body.clone();
    let title = detail.title.clone();
    let heading = detail.title.clone();
    // Built as separate views: one nested type for the whole page is too deep for rustc.
    let title_section = view! {
        <section class="card space-y-3" aria-label="Title">
            <ActionForm action=rename attr:class="flex flex-wrap items-end gap-3">
                <input type="hidden" name="slug" value=slug_r />
                <input type="hidden" name="id" value=id_r />
                <div class="min-w-64 flex-1">
                    <Field label="Title" name="title" value=title required=true maxlength=TitleRule::MAX error=field_error(rename_error, "title") />
                </div>
                <button type="submit" class="btn-secondary" data-testid="rename-topic">"Rename"</button>
            </ActionForm>
            <FormError error=rename_error fields=&["title"] />
        </section>
    }
    .into_any();
    let text_section = view! {
        <section class="card space-y-4" aria-label="Text">
            <LiveBody detail user can_edit=true>
                <ActionForm action=update attr:class="space-y-4">
                    <FormError error=update_error fields=&["body"] />
                    <input type="hidden" name="slug" value=slug_u />
                    <input type="hidden" name="id" value=id_u />
                    <div class="space-y-1">
                        <label for="body" class="block text-sm font-medium">"Body (markdown)"</label>
                        <textarea id="body" name="body" rows="16" class="field-input font-mono text-sm" data-testid="topic-body-input"
                            aria-describedby="body-hint">{body}</textarea>
                        <p id="body-hint" class="text-xs text-muted">{format!("Link topics with [[Title]] or [[subject-slug/Title]]. At most {} KB.", Body::MAX_BYTES / 1000)}</p>
                        <p class="text-sm text-danger" role="alert">{move || field_error(update_error, "body").get()}</p>
                    </div>
                    <button type="submit" class="btn-primary" data-testid="save-topic">"Save"</button>
                </ActionForm>
            </LiveBody>
        </section>
    }
    .into_any();
    let tree_actions = view! {
        <div class="grid gap-4 sm:grid-cols-2">
            <section class="card space-y-3" aria-label="Add a subtopic">
                <ActionForm action=add_child attr:class="space-y-3">
                    <input type="hidden" name="slug" value=slug_c />
                    <input type="hidden" name="parent_id" value=id_c />
                    <Field label="New subtopic" name="title" id="child-title" required=true maxlength=TitleRule::MAX error=field_error(child_error, "title") />
                    <button type="submit" class="btn-secondary" data-testid="add-child">"Add subtopic"</button>
                </ActionForm>
                <FormError error=child_error fields=&["title"] />
            </section>
            {(!is_root).then(move || view! {
                <section class="card space-y-3" aria-label="Add a topic after this one">
                    <ActionForm action=add_sibling attr:class="space-y-3">
                        <input type="hidden" name="slug" value=slug_s />
                        <input type="hidden" name="after_id" value=id_s />
                        <Field label="New topic after this one" name="title" id="sibling-title" required=true maxlength=TitleRule::MAX error=field_error(sibling_error, "title") />
                        <button type="submit" class="btn-secondary" data-testid="add-sibling">"Add after"</button>
                    </ActionForm>
                    <FormError error=sibling_error fields=&["title"] />
                </section>
                <section class="card space-y-3" aria-label="Move">
                    <ActionForm action=move_action attr:class="space-y-3">
                        <FormError error=move_error />
                        <input type="hidden" name="slug" value=slug_m />
                        <input type="hidden" name="id" value=id_m />
                        <div class="space-y-1">
                            <label for="parent_id" class="block text-sm font-medium">"Move under"</label>
                            <select id="parent_id" name="parent_id" class="field-input" data-testid="move-parent">
                                {topics.clone().into_iter().map(|(tid, label)| view! {
                                    <option value=tid.to_string() selected=Some(tid) == parent>{label}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <Field label="Position (1 = first; empty = last)" name="position" kind="number" error=field_error(move_error, "position") />
                        <button type="submit" class="btn-secondary" data-testid="move-topic">"Move"</button>
                    </ActionForm>
                </section>
                <section class="card space-y-3" aria-label="Delete">
                    <ActionForm action=delete attr:class="space-y-3">
                        <FormError error=delete_error />
                        <input type="hidden" name="slug" value=slug_d />
                        <input type="hidden" name="id" value=id_d />
                        <label class="flex items-center gap-2 text-sm">
                            <input type="checkbox" required=true data-testid="confirm-delete-topic" />
                            "Delete this topic and all its subtopics"
                        </label>
                        <button type="submit" class="btn-danger" data-testid="delete-topic">"Delete"</button>
                    </ActionForm>
                </section>
            })}
        </div>
    }
    .into_any();
    view! {
        <Canonical path=canonical />
        <div class="space-y-6">
            <h1 class="text-2xl font-bold">"Edit "<a href=view_href class="text-accent underline hover:no-underline">{heading}</a></h1>
            {title_section}
            {text_section}
            {tree_actions}
        </div>
    }
}
