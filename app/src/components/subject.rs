//! Pieces shared by the subject pages: a subject's card in lists, its tags and counts, the
//! like/save buttons, and its tree as the map draws it.

use arbor_map::draw::MapNode;
use leptos::prelude::*;

use crate::content::{SubjectCard, SubjectPage, TopicNode, Visibility, topic_path};
use crate::subjects::MarkSubject;

/// A subject's tree as the map draws it (topics linking to their pages in subject `slug`,
/// folded at `fold`), for its tree view (`arbor_map::treeview`).
pub fn map_node(node: &TopicNode, slug: &str, fold: &[i64]) -> MapNode {
    MapNode {
        id: node.id,
        label: node.title.clone(),
        href: Some(topic_path(slug, node.id, &node.title)),
        collapsed: fold.contains(&node.id) && !node.children.is_empty(),
        children: node
            .children
            .iter()
            .map(|child| map_node(child, slug, fold))
            .collect(),
    }
}

/// Tags as links to the catalogue filtered by each.
#[component]
pub fn TagList(tags: Vec<String>) -> impl IntoView {
    view! {
        <ul class="flex flex-wrap gap-1.5" aria-label="Tags">
            {tags.into_iter().map(|tag| {
                let href = format!("/explore?q=tag:{tag}");
                view! {
                    <li><a href=href class="inline-flex min-h-6 items-center rounded-full bg-tag px-2 py-0.5 text-xs font-medium text-on-tag hover:underline">"#"{tag}</a></li>
                }
            }).collect_view()}
        </ul>
    }
}

/// `one` or `many` as `n` asks ("1 like", "2 likes", "0 likes").
pub fn noun(n: i64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Likes, saves and views.
#[component]
pub fn Counts(likes: i64, saves: i64, views: i64) -> impl IntoView {
    view! {
        <p class="text-xs text-muted" data-testid="counts">
            <span data-testid="likes">{likes}</span>" "{noun(likes, "like", "likes")}" · "
            <span data-testid="saves">{saves}</span>" "{noun(saves, "save", "saves")}" · "
            <span data-testid="views">{views}</span>" "{noun(views, "view", "views")}
        </p>
    }
}

/// A badge for subjects that are not public.
#[component]
pub fn VisibilityBadge(visibility: Visibility) -> impl IntoView {
    (visibility != Visibility::Public).then(|| {
        view! {
            <span class="rounded bg-note-warn px-1.5 py-0.5 text-xs font-semibold text-on-note-warn" data-testid="visibility">
                {visibility.as_str()}
            </span>
        }
    })
}

/// A subject in a list.
#[component]
pub fn SubjectItem(card: SubjectCard) -> impl IntoView {
    let href = format!("/s/{}", card.slug);
    let author = format!("/u/{}", card.author.username);
    view! {
        <li class="card space-y-2 p-4" data-testid="subject-card">
            <div class="flex items-baseline justify-between gap-2">
                <a href=href class="text-lg font-semibold text-accent hover:underline">{card.title}</a>
                <VisibilityBadge visibility=card.visibility />
            </div>
            <p class="text-sm text-muted">
                "by "<a href=author class="hover:underline">{card.author.display_name}</a>
            </p>
            {(!card.summary.is_empty()).then(|| view! { <p class="text-sm">{card.summary}</p> })}
            <TagList tags=card.tags />
            <Counts likes=card.likes saves=card.saves views=card.views />
        </li>
    }
}

/// A list of subjects, with a message when empty.
#[component]
pub fn SubjectList(items: Vec<SubjectCard>, #[prop(into)] empty: String) -> impl IntoView {
    if items.is_empty() {
        view! { <p class="text-sm text-muted">{empty}</p> }.into_any()
    } else {
        view! {
            <ul class="grid gap-3 sm:grid-cols-2">
                {items.into_iter().map(|card| view! { <SubjectItem card /> }).collect_view()}
            </ul>
        }
        .into_any()
    }
}

/// A page of subjects with a link to the next page (`next_href` builds it from a cursor).
#[component]
pub fn SubjectPageList(
    page: SubjectPage,
    #[prop(into)] empty: String,
    next_href: impl Fn(&str) -> String + 'static,
) -> impl IntoView {
    let next = page.next_cursor.as_deref().map(next_href);
    view! {
        <SubjectList items=page.items empty />
        {next.map(|href| view! { <a href=href class="btn-secondary mt-4" data-testid="next-page">"More"</a> })}
    }
}

/// A like or save toggle: a form, so it works without JavaScript.
#[component]
pub fn MarkButton(
    action: ServerAction<MarkSubject>,
    slug: String,
    mark: &'static str,
    on: bool,
    count: i64,
) -> impl IntoView {
    let (label, active) = match (mark, on) {
        ("like", false) => ("♡ Like", false),
        ("like", true) => ("♥ Liked", true),
        (_, false) => ("☆ Save", false),
        (_, true) => ("★ Saved", true),
    };
    let class = if active {
        "btn-primary"
    } else {
        "btn-secondary"
    };
    view! {
        <ActionForm action>
            <input type="hidden" name="slug" value=slug />
            <input type="hidden" name="mark" value=mark />
            <input type="hidden" name="on" value=(!on).to_string() />
            <button type="submit" class=class data-testid=format!("{mark}-button") aria-pressed=on.to_string()>
                {label}" "<span class="ml-1 font-normal">{count}</span>
            </button>
        </ActionForm>
    }
}
