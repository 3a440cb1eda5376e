//! `/`: the landing page.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};

use crate::components::layout::CurrentUser;

#[component]
pub fn HomePage() -> impl IntoView {
    let user = expect_context::<CurrentUser>().0;
    view! {
        <Title text="" />
        <Meta name="description" content="Learn and teach through mind maps: subjects drawn as maps of topics, each topic a page you can read, link and edit together." />
        <section class="py-10 text-center sm:py-16">
            <h1 class="text-4xl font-extrabold tracking-tight sm:text-5xl">
                "Learn and teach through "
                <span class="text-emerald-600 dark:text-emerald-400">"mind maps"</span>
            </h1>
            <p class="mx-auto mt-4 max-w-2xl text-lg text-slate-600 dark:text-slate-300">
                "Arbor subjects are maps of topics. Every topic is a page you can read, link and write together, live."
            </p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(me)) => view! {
                            <p class="mt-8 text-base" data-testid="welcome">
                                "Welcome back, " <strong>{me.display_name}</strong> "."
                            </p>
                        }.into_any(),
                        _ => view! {
                            <div class="mt-8 flex justify-center gap-3">
                                <a href="/signup" class="btn-primary">"Create an account"</a>
                                <a href="/login" class="btn-secondary">"Sign in"</a>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
