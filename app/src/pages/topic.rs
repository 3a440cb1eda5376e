//! `/s/{slug}/t/{id}`: a topic — breadcrumbs to the root, the rendered body, children,
//! outgoing links and backlinks, previous/next in reading order. `/s/{slug}/t/{id}/edit`: its
//! editor (a plain form until live editing lands) with the tree actions: add a child or a
//! sibling, move, delete.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use crate::components::form::{Field, FormError, action_error, field_error};
use crate::components::subject::VisibilityBadge;
use crate::content::{Body, Title as TitleRule, TopicDetail, TopicNode, TopicRef};
use crate::error::ErrorCode;
use crate::pages::not_found::NotFound;
use crate::subjects::{CreateTopic, DeleteTopic, MoveTopic, UpdateTopic, get_subject, get_topic};

fn topic_params() -> (impl Fn() -> String + Copy, impl Fn() -> i64 + Copy) {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse().ok())
            .unwrap_or(0)
    };
    (slug, id)
}

fn ref_list(refs: Vec<TopicRef>, testid: &'static str, empty: &'static str) -> AnyView {
    if refs.is_empty() {
        return view! { <p class="text-sm text-slate-500 dark:text-slate-400">{empty}</p> }
            .into_any();
    }
    view! {
        <ul class="space-y-1" data-testid=testid>
            {refs.into_iter().map(|r| {
                let href = r.href();
                view! {
                    <li>
                        <a href=href class="text-emerald-700 hover:underline dark:text-emerald-400">{r.title}</a>
                        {r.subject_title.map(|s| view! { <span class="text-xs text-slate-500">" in "{s}</span> })}
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
                    Err(e) => view! { <p role="alert" class="text-red-600">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TopicView(detail: TopicDetail) -> impl IntoView {
    let subject_href = format!("/s/{}", detail.subject.slug);
    let edit_href = format!("/s/{}/t/{}/edit", detail.subject.slug, detail.id);
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
        <Title text=page_title.clone() />
        <Meta name="description" content=description.clone() />
        <Meta property="og:title" content=page_title />
        <Meta property="og:description" content=description />
        <Meta property="og:type" content="article" />
        <article class="space-y-6">
            <nav aria-label="Breadcrumbs" class="flex flex-wrap items-center gap-1 text-sm text-slate-500" data-testid="breadcrumbs">
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
                {detail.reader.can_edit.then(|| view! { <a href=edit_href class="btn-secondary" data-testid="edit-topic">"Edit"</a> })}
            </header>
            <div class="prose max-w-none space-y-4 leading-relaxed [&_a]:text-emerald-700 [&_a]:underline [&_h2]:text-xl [&_h2]:font-semibold [&_pre]:overflow-x-auto [&_pre]:rounded [&_pre]:bg-slate-100 [&_pre]:p-3 dark:[&_pre]:bg-slate-800 [&_table]:border-collapse [&_td]:border [&_td]:px-2 [&_th]:border [&_th]:px-2 [&_ul]:list-disc [&_ul]:pl-6 [&_ol]:list-decimal [&_ol]:pl-6"
                data-testid="topic-body" inner_html=detail.html.clone() />
            <div class="grid gap-4 sm:grid-cols-3">
                <section class="card p-4" aria-labelledby="children-heading">
                    <h2 id="children-heading" class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"Subtopics"</h2>
                    {ref_list(detail.children.clone(), "children", "None.")}
                </section>
                <section class="card p-4" aria-labelledby="links-heading">
                    <h2 id="links-heading" class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"Links to"</h2>
                    {ref_list(detail.links.clone(), "links", "None.")}
                </section>
                <section class="card p-4" aria-labelledby="backlinks-heading">
                    <h2 id="backlinks-heading" class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"Linked from"</h2>
                    {ref_list(detail.backlinks.clone(), "backlinks", "Nothing links here yet.")}
                </section>
            </div>
            <nav aria-label="Reading order" class="flex justify-between gap-4 border-t border-slate-200 pt-4 dark:border-slate-700">
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
    view! {
        <Title text="Edit topic" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (detail.await, tree.await) {
                    (Ok(detail), Ok(tree)) if detail.reader.can_edit => {
                        let mut topics = Vec::new();
                        flatten(&tree.root, 0, &mut topics);
                        view! { <TopicEditor detail topics /> }.into_any()
                    }
                    (Ok(_), Ok(_)) => view! { <p role="alert">"Only the owner and editors can change this subject."</p> }.into_any(),
                    (Err(e), _) | (_, Err(e)) if e.code == ErrorCode::NotFound => view! { <NotFound /> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <p role="alert" class="text-red-600">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TopicEditor(detail: TopicDetail, topics: Vec<(i64, String)>) -> impl IntoView {
    let slug = detail.subject.slug.clone();
    let id = detail.id.to_string();
    let is_root = detail.parent_id.is_none();
    let update = ServerAction::<UpdateTopic>::new();
    let update_error = action_error(update);
    let add_child = ServerAction::<CreateTopic>::new();
    let child_error = action_error(add_child);
    let add_sibling = ServerAction::<CreateTopic>::new();
    let sibling_error = action_error(add_sibling);
    let move_action = ServerAction::<MoveTopic>::new();
    let move_error = action_error(move_action);
    let delete = ServerAction::<DeleteTopic>::new();
    let delete_error = action_error(delete);
    let view_href = format!("/s/{slug}/t/{id}");
    let parent = detail.parent_id;
    let (slug_s, id_s, slug_m, id_m, slug_d, id_d) = (
        slug.clone(),
        id.clone(),
        slug.clone(),
        id.clone(),
        slug.clone(),
        id.clone(),
    );
    let (slug_u, id_u, slug_c, id_c) = (slug.clone(), id.clone(), slug, id);
    view! {
        <div class="space-y-6">
            <h1 class="text-2xl font-bold">"Edit "<a href=view_href class="text-emerald-700 hover:underline dark:text-emerald-400">{detail.title.clone()}</a></h1>
            <section class="card space-y-4" aria-label="Text">
                <ActionForm action=update attr:class="space-y-4">
                    <FormError error=update_error fields=&["title", "body"] />
                    <input type="hidden" name="slug" value=slug_u />
                    <input type="hidden" name="id" value=id_u />
                    <Field label="Title" name="title" value=detail.title.clone() required=true maxlength=TitleRule::MAX error=field_error(update_error, "title") />
                    <div class="space-y-1">
                        <label for="body" class="block text-sm font-medium">"Body (markdown)"</label>
                        <textarea id="body" name="body" rows="16" class="field-input font-mono text-sm" data-testid="topic-body-input"
                            aria-describedby="body-hint">{detail.body.clone()}</textarea>
                        <p id="body-hint" class="text-xs text-slate-500">{format!("Link topics with [[Title]] or [[subject-slug/Title]]. At most {} KB.", Body::MAX_BYTES / 1000)}</p>
                        <p class="text-sm text-red-600 dark:text-red-400" role="alert">{move || field_error(update_error, "body").get()}</p>
                    </div>
                    <button type="submit" class="btn-primary" data-testid="save-topic">"Save"</button>
                </ActionForm>
            </section>
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
        </div>
    }
}
