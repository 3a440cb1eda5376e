//! `/s/{slug}`: a subject — its mind map (SVG drawn on the server, folded where `?fold=`
//! says; once hydrated a view that pans, zooms, fits, goes full screen and folds on the
//! drawing: the `MapReader` island) above its outline, the same tree as a WAI-ARIA tree view
//! (`arbor_map::treeview`: arrow keys, folding that the drawing follows); `/new` starts a
//! subject; `/s/{slug}/settings` holds its title, tags, visibility, collaborators and
//! deletion.

use arbor_map::treeview::{self, Focus};
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::form::{Field, FileText, FormError, action_error, field_error};
use crate::components::islands::MapReader;
use crate::components::layout::CurrentUser;
use crate::components::redirect::SignInFirst;
use crate::components::subject::{Counts, MarkButton, TagList, VisibilityBadge, map_node};
use crate::content::{Member, SubjectDetail, Summary, Title as TitleRule, Visibility};
use crate::error::ErrorCode;
use crate::pages::map_upkeep::MapUpkeepSection;
use crate::pages::not_found::NotFound;
use crate::subjects::{
    CreateFromFile, CreateSubject, CreateTopic, DeleteSubject, MarkSubject, RemoveMember,
    SetMember, UpdateSubject, get_subject, parse_fold, subject_members,
};

#[component]
pub fn SubjectPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let fold = move || query.read().get("fold");
    let mark = ServerAction::<MarkSubject>::new();
    let detail = Resource::new(
        move || (slug(), fold(), mark.version().get()),
        |(slug, fold, _)| get_subject(slug, fold),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <SubjectView detail fold=parse_fold(&fold().unwrap_or_default()) mark /> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SubjectView(
    detail: SubjectDetail,
    fold: Vec<i64>,
    mark: ServerAction<MarkSubject>,
) -> impl IntoView {
    let SubjectDetail {
        subject,
        root,
        reader,
        map_svg,
        ..
    } = detail;
    let slug = subject.slug.clone();
    let description = if subject.summary.is_empty() {
        format!(
            "{} — a subject by {} on Arbor",
            subject.title, subject.author.display_name
        )
    } else {
        subject.summary.chars().take(200).collect()
    };
    let author_href = format!("/u/{}", subject.author.username);
    let login = format!("/login?next=/s/{slug}");
    let settings = format!("/s/{slug}/settings");
    let root_id = root.id;
    let tree = treeview::html(
        &map_node(&root, &slug, &fold),
        &format!("Topics of {}", subject.title),
        Focus::Items,
    );
    let add_topic = ServerAction::<CreateTopic>::new();
    let add_error = action_error(add_topic);
    view! {
        <Title text=subject.title.clone() />
        <Meta name="description" content=description.clone() />
        <Meta property="og:title" content=subject.title.clone() />
        <Meta property="og:description" content=description />
        <Meta property="og:type" content="article" />
        <article class="space-y-6">
            <header class="space-y-2">
                <div class="flex flex-wrap items-center gap-2">
                    <h1 class="text-3xl font-bold" data-testid="subject-title">{subject.title.clone()}</h1>
                    <VisibilityBadge visibility=subject.visibility />
                </div>
                <p class="text-muted">
                    "by "<a href=author_href class="font-medium hover:underline" data-testid="subject-author">{subject.author.display_name.clone()}</a>
                </p>
                {(!subject.summary.is_empty()).then(|| view! { <p class="max-w-3xl">{subject.summary.clone()}</p> })}
                <TagList tags=subject.tags.clone() />
                <Counts likes=subject.likes saves=subject.saves views=subject.views />
                <div class="flex flex-wrap items-center gap-2">
                    {if reader.signed_in {
                        view! {
                            <MarkButton action=mark slug=slug.clone() mark="like" on=reader.liked count=subject.likes />
                            <MarkButton action=mark slug=slug.clone() mark="save" on=reader.saved count=subject.saves />
                        }.into_any()
                    } else {
                        view! { <a href=login class="btn-secondary">"Sign in to like and save"</a> }.into_any()
                    }}
                    {reader.can_edit.then(|| view! { <a href=format!("/s/{slug}/edit") class="btn-primary" data-testid="edit-map">"Edit the map live"</a> })}
                    {reader.can_edit.then(|| view! { <a href=settings class="btn-secondary" data-testid="subject-settings">"Settings"</a> })}
                </div>
            </header>
            <div class="space-y-6" data-map-reader="">
                <div data-role="frame" class="card map-frame" tabindex="0" role="region" aria-label="Mind map (drawing)" aria-describedby="map-help" data-testid="map">
                    <div data-role="controls" class="map-controls" hidden=true>
                        <button type="button" data-role="zoom-out" class="btn-secondary" aria-label="Zoom out" title="Zoom out (−)" data-testid="map-zoom-out">"−"</button>
                        <button type="button" data-role="fit" class="btn-secondary" title="The whole map (0)" data-testid="map-fit">"Fit"</button>
                        <button type="button" data-role="zoom-in" class="btn-secondary" aria-label="Zoom in" title="Zoom in (+)" data-testid="map-zoom-in">"+"</button>
                        <button type="button" data-role="fullscreen" class="btn-secondary" aria-pressed="false" data-testid="map-fullscreen">"Full screen"</button>
                    </div>
                    <div data-role="drawing" class="map-drawing" inner_html=map_svg />
                </div>
                <p id="map-help" class="-mt-4 text-sm text-muted">"Drag to move the map; pinch, Ctrl+wheel, or + and − to zoom; 0 to fit; the circles fold and unfold a branch."</p>
                <nav aria-labelledby="outline-heading" class="card space-y-2 p-4">
                    <h2 id="outline-heading" class="text-sm font-semibold uppercase tracking-wide text-muted">"Outline"</h2>
                    <p class="text-sm text-muted">"Arrow keys move through the topics and Enter opens one; → and ← unfold and fold a topic, on the map too."</p>
                    <div data-testid="outline" inner_html=tree />
                </nav>
                <MapReader />
            </div>
            <Downloads slug=slug.clone() />
            {reader.can_edit.then(|| view! {
                <section class="card space-y-3" aria-labelledby="add-heading">
                    <h2 id="add-heading" class="text-lg font-semibold">"Add a topic"</h2>
                    <ActionForm action=add_topic attr:class="flex flex-wrap items-end gap-2">
                        <input type="hidden" name="slug" value=slug.clone() />
                        <input type="hidden" name="parent_id" value=root_id.to_string() />
                        <div class="min-w-64 flex-1">
                            <Field label="Title of a new main topic" name="title" id="main-title" required=true maxlength=TitleRule::MAX error=field_error(add_error, "title") />
                        </div>
                        <button type="submit" class="btn-primary" data-testid="add-main-topic">"Add"</button>
                    </ActionForm>
                    <FormError error=add_error fields=&["title"] />
                </section>
            })}
        </article>
    }
}

/// Links to the subject as files (`/api/v1/subjects/{slug}/export`).
#[component]
fn Downloads(slug: String) -> impl IntoView {
    let kinds = [
        ("markdown", "Markdown"),
        ("markdown-zip", "Markdown files (zip)"),
        ("opml", "OPML"),
        ("freemind", "FreeMind"),
        ("json", "JSON"),
        ("svg", "SVG"),
        ("png", "PNG"),
    ];
    view! {
        <p class="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm" data-testid="downloads">
            <span class="font-medium">"Download:"</span>
            {kinds.into_iter().map(|(format, label)| {
                let href = format!("/api/v1/subjects/{slug}/export?format={format}");
                view! { <a href=href rel="external nofollow" download="" class="text-accent hover:underline">{label}</a> }
            }).collect_view()}
        </p>
    }
}

#[component]
pub fn NewSubjectPage() -> impl IntoView {
    let me = expect_context::<CurrentUser>().0;
    let action = ServerAction::<CreateSubject>::new();
    let error = action_error(action);
    let from_file = ServerAction::<CreateFromFile>::new();
    let file_error = action_error(from_file);
    view! {
        <Title text="New subject" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(_)) => view! {
                        <section class="card mx-auto max-w-2xl space-y-4">
                            <h1 class="text-2xl font-bold">"New subject"</h1>
                            <ActionForm action attr:class="space-y-4">
                                <FormError error fields=&["title", "summary", "tags", "visibility"] />
                                <Field label="Title" name="title" required=true maxlength=TitleRule::MAX error=field_error(error, "title") />
                                <div class="space-y-1">
                                    <label for="summary" class="block text-sm font-medium">"Summary"</label>
                                    <textarea id="summary" name="summary" rows="3" maxlength=Summary::MAX class="field-input"></textarea>
                                    <p class="text-sm text-danger" role="alert">{move || field_error(error, "summary").get()}</p>
                                </div>
                                <Field label="Tags" name="tags" hint="Up to 10, separated by commas or spaces." error=field_error(error, "tags") />
                                <VisibilityField current=Visibility::Private />
                                <button type="submit" class="btn-primary" data-testid="create-subject">"Create subject"</button>
                            </ActionForm>
                        </section>
                        <section class="card mx-auto mt-6 max-w-2xl space-y-4" aria-labelledby="from-file-heading">
                            <h2 id="from-file-heading" class="text-xl font-bold">"Or start from a file"</h2>
                            <p class="text-sm text-muted">"A Markdown outline (headings or a bulleted list), a plain-text outline from Workflowy, Dynalist or Logseq, OPML, FreeMind (.mm) or Arbor JSON. The subject takes the file's title, or its name."</p>
                            <ActionForm action=from_file attr:class="space-y-4">
                                <FormError error=file_error fields=&["filename", "format", "content", "visibility"] />
                                <input type="hidden" name="format" value="" />
                                <Field label="File name" name="filename" id="file-filename" required=true hint="e.g. outline.md" error=field_error(file_error, "filename") />
                                <FileText prefix="new-file" rows=6 error=file_error />
                                <input type="hidden" name="visibility" value="private" />
                                <button type="submit" class="btn-primary" data-testid="create-from-file">"Create from the file"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    _ => view! { <SignInFirst next="/new" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The visibility choice, as radio buttons.
#[component]
fn VisibilityField(current: Visibility) -> impl IntoView {
    let options = [
        (
            Visibility::Private,
            "Private",
            "Only you and collaborators (a draft).",
        ),
        (
            Visibility::Unlisted,
            "Unlisted",
            "Anyone with the link; not listed.",
        ),
        (
            Visibility::Public,
            "Public",
            "Listed in the catalogue, feeds and your profile.",
        ),
    ];
    view! {
        <fieldset class="space-y-1">
            <legend class="text-sm font-medium">"Visibility"</legend>
            {options.into_iter().map(|(v, label, hint)| view! {
                <label class="flex items-start gap-2 text-sm">
                    <input type="radio" name="visibility" value=v.as_str() checked=v == current data-testid=format!("visibility-{}", v.as_str()) />
                    <span><strong>{label}</strong>" — "{hint}</span>
                </label>
            }).collect_view()}
        </fieldset>
    }
}

#[component]
pub fn SubjectSettingsPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let set_member = ServerAction::<SetMember>::new();
    let remove_member = ServerAction::<RemoveMember>::new();
    let detail = Resource::new(slug, |slug| get_subject(slug, None));
    let members = Resource::new(
        move || {
            (
                slug(),
                set_member.version().get(),
                remove_member.version().get(),
            )
        },
        |(slug, _, _)| subject_members(slug),
    );
    view! {
        <Title text="Subject settings" />
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) if detail.reader.can_edit => {
                        let members = members.await.unwrap_or_default();
                        view! { <Settings detail members set_member remove_member /> }.into_any()
                    }
                    Ok(_) => view! { <p role="alert">"Only the owner and editors can change this subject."</p> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Settings(
    detail: SubjectDetail,
    members: Vec<Member>,
    set_member: ServerAction<SetMember>,
    remove_member: ServerAction<RemoveMember>,
) -> impl IntoView {
    let subject = detail.subject;
    let is_owner = detail.reader.is_owner;
    let slug = subject.slug.clone();
    let update = ServerAction::<UpdateSubject>::new();
    let error = action_error(update);
    let member_error = action_error(set_member);
    let delete = ServerAction::<DeleteSubject>::new();
    let delete_error = action_error(delete);
    let back = format!("/s/{slug}");
    let (slug_a, slug_b, slug_c, slug_d) = (slug.clone(), slug.clone(), slug.clone(), slug.clone());
    let slug_e = slug.clone();
    view! {
        <div class="mx-auto max-w-2xl space-y-8">
            <h1 class="text-2xl font-bold">"Settings of "<a href=back class="text-accent underline hover:no-underline">{subject.title.clone()}</a></h1>
            <section class="card space-y-4" aria-labelledby="about-heading">
                <h2 id="about-heading" class="text-lg font-semibold">"About"</h2>
                <ActionForm action=update attr:class="space-y-4">
                    <FormError error fields=&["title", "summary", "tags", "visibility"] />
                    <input type="hidden" name="slug" value=slug_a />
                    <Field label="Title" name="title" value=subject.title.clone() required=true maxlength=TitleRule::MAX error=field_error(error, "title") />
                    <div class="space-y-1">
                        <label for="summary" class="block text-sm font-medium">"Summary"</label>
                        <textarea id="summary" name="summary" rows="3" maxlength=Summary::MAX class="field-input">{subject.summary.clone()}</textarea>
                    </div>
                    <Field label="Tags" name="tags" value=subject.tags.join(", ") hint="Up to 10, separated by commas or spaces." error=field_error(error, "tags") />
                    {is_owner.then(|| view! { <VisibilityField current=subject.visibility /> })}
                    <button type="submit" class="btn-primary" data-testid="save-subject">"Save"</button>
                </ActionForm>
            </section>
            <section class="card space-y-4" aria-labelledby="people-heading">
                <h2 id="people-heading" class="text-lg font-semibold">"Collaborators"</h2>
                <ul class="divide-y divide-line" data-testid="members">
                    {members.into_iter().map(|m| {
                        let slug = slug_b.clone();
                        view! {
                            <li class="flex items-center justify-between gap-2 py-2">
                                <span>{m.display_name}" (@"{m.username.clone()}") — "{m.role.as_str()}</span>
                                {is_owner.then(|| view! {
                                    <ActionForm action=remove_member>
                                        <input type="hidden" name="slug" value=slug />
                                        <input type="hidden" name="username" value=m.username />
                                        <button type="submit" class="btn-secondary">"Remove"</button>
                                    </ActionForm>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {is_owner.then(move || view! {
                    <ActionForm action=set_member attr:class="flex flex-wrap items-end gap-2">
                        <input type="hidden" name="slug" value=slug_c />
                        <div class="flex-1"><Field label="Username" name="username" required=true error=field_error(member_error, "username") /></div>
                        <div class="space-y-1">
                            <label for="role" class="block text-sm font-medium">"Role"</label>
                            <select id="role" name="role" class="field-input">
                                <option value="editor">"Editor"</option>
                                <option value="viewer">"Viewer"</option>
                            </select>
                        </div>
                        <button type="submit" class="btn-primary">"Invite or change role"</button>
                    </ActionForm>
                })}
            </section>
            <MapUpkeepSection slug=slug_e is_owner />
            {is_owner.then(move || view! {
                <section class="card space-y-4 border-danger" aria-labelledby="delete-heading">
                    <h2 id="delete-heading" class="text-lg font-semibold text-danger">"Delete this subject"</h2>
                    <p class="text-sm">"This removes every topic, like and save with it, and cannot be undone. Type the subject's address, "<code>{slug_d.clone()}</code>", to confirm."</p>
                    <ActionForm action=delete attr:class="space-y-3">
                        <input type="hidden" name="slug" value=slug_d />
                        <Field label="Address" name="confirm" required=true error=field_error(delete_error, "confirm") />
                        <button type="submit" class="btn-danger">"Delete subject"</button>
                    </ActionForm>
                </section>
            })}
        </div>
    }
}
