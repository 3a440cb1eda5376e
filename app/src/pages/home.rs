//! `/`: for a visitor, trending and newest subjects; signed in, your feed and your subjects
//! first. A subject is listed once, in the first list that has it (feed, yours, trending,
//! newest).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::components::layout::CurrentUser;
use crate::components::subject::SubjectList;
use crate::content::SubjectCard;
use crate::subjects::home_page;

/// `items` without the subjects already listed above (`shown`), which it then holds too.
fn unseen(items: Vec<SubjectCard>, shown: &mut Vec<String>) -> Vec<SubjectCard> {
    let items: Vec<SubjectCard> = items
        .into_iter()
        .filter(|s| !shown.contains(&s.slug))
        .collect();
    shown.extend(items.iter().map(|s| s.slug.clone()));
    items
}

#[component]
pub fn HomePage() -> impl IntoView {
    let lists = Resource::new(|| (), |_| home_page());
    let me = expect_context::<CurrentUser>().0;
    view! {
        <Title text="" />
        <Meta name="description" content="Learn and teach through mind maps: subjects drawn as maps of topics, each topic a page you can read, link and edit together." />
        <Meta property="og:title" content="Arbor" />
        <Meta property="og:description" content="Learn and teach through mind maps." />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match lists.await {
                    Ok(home) => {
                        let signed_in = home.feed.is_some();
                        let mut shown: Vec<String> = home
                            .feed
                            .iter()
                            .flat_map(|f| f.items.iter().map(|s| s.slug.clone()))
                            .collect();
                        let mine = unseen(home.mine, &mut shown);
                        let trending = unseen(home.trending, &mut shown);
                        let newest = unseen(home.newest, &mut shown);
                        let welcome = match me.await {
                            Ok(Some(me)) => Some(view! {
                                <p class="mb-6 text-lg" data-testid="welcome">"Welcome, "<strong>{me.display_name}</strong>"."</p>
                            }),
                            _ => None,
                        };
                        view! {
                            {welcome}
                            {(!signed_in).then(|| view! {
                                <section class="py-10 text-center sm:py-14">
                                    <h1 class="text-4xl font-extrabold tracking-tight sm:text-5xl">
                                        "Learn and teach through "
                                        <span class="text-accent">"mind maps"</span>
                                    </h1>
                                    <p class="mx-auto mt-4 max-w-2xl text-lg text-muted">
                                        "Arbor subjects are maps of topics. Every topic is a page you can read, link and write together, live."
                                    </p>
                                    <div class="mt-8 flex justify-center gap-3">
                                        <a href="/signup" class="btn-primary">"Create an account"</a>
                                        <a href="/explore" class="btn-secondary">"Explore subjects"</a>
                                    </div>
                                </section>
                            })}
                            <div class="space-y-10">
                                {home.feed.map(|feed| view! {
                                    <section aria-labelledby="feed-heading" data-testid="feed">
                                        <div class="mb-3 flex items-center justify-between">
                                            <h2 id="feed-heading" class="text-xl font-bold">"Your feed"</h2>
                                            <a href="/new" class="btn-primary" data-testid="new-subject">"New subject"</a>
                                        </div>
                                        <SubjectList items=feed.items empty="Follow authors to see their new and updated subjects here." />
                                    </section>
                                })}
                                {signed_in.then(|| view! {
                                    <section aria-labelledby="mine-heading" data-testid="mine">
                                        <h2 id="mine-heading" class="mb-3 text-xl font-bold">"Your subjects"</h2>
                                        <SubjectList items=mine.clone() empty="Nothing else yet: start a subject." />
                                    </section>
                                })}
                                <section aria-labelledby="trending-heading" data-testid="trending">
                                    <h2 id="trending-heading" class="mb-3 text-xl font-bold">"Trending"</h2>
                                    <SubjectList items=trending empty="Nothing else yet." />
                                </section>
                                <section aria-labelledby="newest-heading" data-testid="newest">
                                    <h2 id="newest-heading" class="mb-3 text-xl font-bold">"Newest"</h2>
                                    <SubjectList items=newest empty="Nothing else yet." />
                                </section>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <p role="alert" class="text-danger">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
