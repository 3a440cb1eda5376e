//! The few browser helpers every part of the editor uses: the window, the document, the clock,
//! finding a part the server rendered (`data-role`), local storage, and event listeners and
//! timers bound to a mounted editor so that none outlives it.
//!
//! It knows nothing of links, texts or maps: `on`, `later` and `with` work for any state that is
//! a [`Host`] (the editors are, in `link.rs`). Every callback borrows that state once and is
//! skipped when it is busy or gone, so no handler ever borrows it twice.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Event, EventTarget, HtmlElement, Storage, Window};

/// State that event listeners and timers call back into: it keeps its listeners (removed when
/// it goes) and says when it has gone.
pub(crate) trait Host: 'static {
    /// False once destroyed: callbacks still queued are dropped.
    fn alive(&self) -> bool;
    fn listeners(&mut self) -> &mut Listeners;
}

/// An event listener: where, on what, and the callback.
type Listener = (EventTarget, &'static str, Closure<dyn FnMut(Event)>);

/// The event listeners a host added, to remove when it goes.
#[derive(Default)]
pub(crate) struct Listeners(Vec<Listener>);

impl Listeners {
    /// Takes every listener off its target (the closures live on with the host: one of them
    /// may be what is running now).
    pub(crate) fn remove_all(&self) {
        for (target, event, closure) in &self.0 {
            let _ =
                target.remove_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        }
    }
}

pub(crate) fn window() -> Window {
    web_sys::window().expect("a window")
}

pub(crate) fn document() -> Document {
    window().document().expect("a document")
}

/// Milliseconds since the Unix epoch, from the page's clock.
pub(crate) fn now() -> f64 {
    js_sys::Date::now()
}

/// A polite live region (the first `data-role="announce"` under an editor's root): what it
/// is given is said by screen readers when they are idle, never interrupting. Without one,
/// nothing is said.
#[derive(Clone)]
pub(crate) struct Announcer(Option<HtmlElement>);

impl Announcer {
    pub(crate) fn find(root: &HtmlElement) -> Announcer {
        Announcer(
            root.query_selector("[data-role=\"announce\"]")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into().ok()),
        )
    }

    pub(crate) fn say(&self, text: &str) {
        let Some(region) = &self.0 else { return };
        // The same words again are a new message: a region whose text does not change says
        // nothing.
        let text = if region.text_content().as_deref() == Some(text) {
            format!("{text}\u{a0}")
        } else {
            text.to_owned()
        };
        region.set_text_content(Some(&text));
    }
}

/// The element under `root` marked `data-role="{role}"`, as a `T`.
pub(crate) fn part<T: JsCast>(root: &HtmlElement, role: &str) -> Result<T, JsValue> {
    root.query_selector(&format!("[data-role=\"{role}\"]"))?
        .ok_or_else(|| JsValue::from_str(&format!("the editor has no {role} element")))?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str(&format!("the {role} element has the wrong type")))
}

pub(crate) fn local_storage() -> Option<Storage> {
    window().local_storage().ok().flatten()
}

/// Calls `f` with the host unless it is gone or destroyed. An event the browser fires
/// synchronously while a handler runs (a focus change, say) finds the host busy and is
/// skipped rather than borrowing it twice.
pub(crate) fn with<T: Host>(weak: &Weak<RefCell<T>>, f: impl FnOnce(&mut T, &Rc<RefCell<T>>)) {
    if let Some(shared) = weak.upgrade() {
        let Ok(mut host) = shared.try_borrow_mut() else {
            return;
        };
        if host.alive() {
            f(&mut host, &shared);
        }
    }
}

/// Listens to `event` on `target` for as long as the host lives.
pub(crate) fn on<T: Host>(
    shared: &Rc<RefCell<T>>,
    target: &EventTarget,
    event: &'static str,
    mut f: impl FnMut(&mut T, &Rc<RefCell<T>>, Event) + 'static,
) -> Result<(), JsValue> {
    let weak = Rc::downgrade(shared);
    let closure = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        with(&weak, |host, shared| f(host, shared, e));
    });
    target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())?;
    shared
        .borrow_mut()
        .listeners()
        .0
        .push((target.clone(), event, closure));
    Ok(())
}

/// Calls `f` with the host after `ms` milliseconds (if it still lives).
pub(crate) fn later<T: Host>(
    shared: &Rc<RefCell<T>>,
    ms: i32,
    f: impl FnOnce(&mut T, &Rc<RefCell<T>>) + 'static,
) {
    let weak = Rc::downgrade(shared);
    let callback = Closure::once_into_js(move || with(&weak, f));
    let _ = window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms);
}

/// Calls `f` with the host before the browser next paints (if it still lives).
pub(crate) fn next_frame<T: Host>(
    shared: &Rc<RefCell<T>>,
    f: impl FnOnce(&mut T, &Rc<RefCell<T>>) + 'static,
) {
    let weak = Rc::downgrade(shared);
    let callback = Closure::once_into_js(move || with(&weak, f));
    let _ = window().request_animation_frame(callback.unchecked_ref());
}

/// Calls `f` once the current handler has returned (a timeout of 0), holding no host.
pub(crate) fn soon(f: impl FnOnce() + 'static) {
    let callback = Closure::once_into_js(f);
    let _ =
        window().set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 0);
}
