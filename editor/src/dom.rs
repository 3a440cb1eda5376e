//! The browser glue: finds the parts of the editor the server rendered (text area, caret
//! layer, people, status, undo and redo, preview), opens the websocket and keeps it open
//! (backoff, a liveness check, reconnecting when the browser is back online), and moves text
//! and frames between the page and the [`Session`].
//!
//! Every handler borrows the editor once and never calls back into the page in a way that
//! fires another handler synchronously (`setRangeText` and `value` fire no `input` event).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    BinaryType, CloseEvent, Document, Element, Event, EventTarget, HtmlButtonElement, HtmlElement,
    HtmlTextAreaElement, KeyboardEvent, MessageEvent, Request, RequestInit, Response, WebSocket,
    Window,
};

use crate::map_view::MapView;
use crate::session::{RemoteCaret, Saved, Session, User, color_for};
use arbor_collab::diff::{byte_index, splice};

/// A silent connection is assumed dead after this long (the server echoes presence, which
/// this side renews every [`RENEW_MS`]).
const SILENCE_MS: f64 = 30_000.0;
const RENEW_MS: f64 = 15_000.0;
/// A connection attempt that has not opened after this long is given up.
const CONNECT_TIMEOUT_MS: f64 = 10_000.0;
/// A connection up this long resets the reconnect backoff.
const STABLE_MS: f64 = 5_000.0;
/// Reconnect backoff: 0.5 s doubling up to 10 s, plus up to 0.5 s of jitter.
const BACKOFF_MS: [f64; 6] = [500.0, 1_000.0, 2_000.0, 4_000.0, 8_000.0, 10_000.0];
/// Quiet time before asking the server to confirm what was typed, and before a preview.
const CONFIRM_MS: i32 = 300;
const PREVIEW_MS: i32 = 250;

thread_local! {
    /// Mounted editors, so they live until destroyed whatever the page does with the handle.
    static LIVE: RefCell<Vec<Shared>> = const { RefCell::new(Vec::new()) };
}

pub(crate) type Shared = Rc<RefCell<Editor>>;

/// An event listener the editor added, to remove when it is destroyed.
type Listener = (EventTarget, &'static str, Closure<dyn FnMut(Event)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Connecting,
    Online,
    Offline,
    /// The server refused this person (access withdrawn, or a refused change): no retry.
    Refused,
}

pub(crate) struct Parts {
    pub(crate) root: HtmlElement,
    people: HtmlElement,
    status: HtmlElement,
    undo: HtmlButtonElement,
    redo: HtmlButtonElement,
    /// A topic's text editor; `None` for a map (see `map_view.rs`).
    text: Option<TextParts>,
    pub(crate) map: Option<MapView>,
}

/// The parts of a topic's text editor.
struct TextParts {
    input: HtmlTextAreaElement,
    carets: HtmlElement,
    preview: HtmlElement,
}

pub(crate) struct Editor {
    pub(crate) parts: Parts,
    pub(crate) session: Session,
    url: String,
    preview_url: String,
    doc_name: String,
    /// Where unconfirmed changes are kept in the browser (`None` for viewers and guests).
    store_key: Option<String>,
    socket: Option<WebSocket>,
    /// The current socket's handlers; the previous socket's are dropped when the next opens.
    socket_handlers: Vec<Box<dyn std::any::Any>>,
    link: Link,
    failures: usize,
    next_attempt: f64,
    attempt_started: f64,
    opened_at: f64,
    last_heard: f64,
    /// A refusal the status shows (the text at its largest, the map at its limits), and
    /// until when.
    notice: (String, f64),
    /// The server said this read-only copy's holder may edit now (reload to get the editor).
    promoted: bool,
    confirm_generation: u32,
    last_renewed: f64,
    composing: bool,
    /// Frames that arrived during an IME composition, applied when it ends.
    deferred: Vec<Vec<u8>>,
    render_queued: bool,
    /// The text and carets the caret layer shows.
    drawn: Option<(String, Vec<RemoteCaret>)>,
    preview_generation: u32,
    /// The text the preview shows, when known: the page's own rendering of the text area's
    /// text in the markup (`data-previewed`), then each preview fetched. A preview of the same text
    /// is not asked for again (opening the editor asks for none).
    previewed: Option<String>,
    listeners: Vec<Listener>,
    tick: Option<(i32, Closure<dyn FnMut()>)>,
    destroyed: bool,
}

/// The mounted editor, as handed to the page's script.
#[wasm_bindgen]
pub struct EditorHandle(Shared);

#[wasm_bindgen]
impl EditorHandle {
    /// Leaves the document (presence removed at once), closes the connection and stops every
    /// timer. The page calls it when the editor's element goes away.
    pub fn destroy(&self) {
        destroy(&self.0);
    }
}

fn window() -> Window {
    web_sys::window().expect("a window")
}

pub(crate) fn document() -> Document {
    window().document().expect("a document")
}

pub(crate) fn now() -> f64 {
    js_sys::Date::now()
}

pub(crate) fn part<T: JsCast>(root: &HtmlElement, role: &str) -> Result<T, JsValue> {
    root.query_selector(&format!("[data-role=\"{role}\"]"))?
        .ok_or_else(|| JsValue::from_str(&format!("the editor has no {role} element")))?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str(&format!("the {role} element has the wrong type")))
}

/// Mounts the live editor on `root`, the element the server rendered with
/// `data-doc` (`topic:{id}`), `data-preview` (the preview endpoint), `data-user` (the name to
/// show others), `data-can-edit`, and the parts marked `data-role`.
#[wasm_bindgen]
pub fn mount(root: HtmlElement) -> Result<EditorHandle, JsValue> {
    console_error_panic_hook::set_once();
    let data = |name: &str| root.get_attribute(name).unwrap_or_default();
    let doc_name = data("data-doc");
    let name = match data("data-user") {
        n if n.is_empty() => "Guest".to_owned(),
        n => n,
    };
    let can_edit = data("data-can-edit") == "true";
    let account = data("data-account");
    let preview_url = data("data-preview");
    let location = window().location();
    let scheme = if location.protocol()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let url = format!("{scheme}://{}/collab/{doc_name}", location.host()?);
    let is_map = data("data-kind") == "map";
    let (text, map) = if is_map {
        (None, Some(MapView::find(&root)?))
    } else {
        let text = TextParts {
            input: part(&root, "input")?,
            carets: part(&root, "carets")?,
            preview: part(&root, "preview")?,
        };
        (Some(text), None)
    };
    let previewed = text
        .as_ref()
        .filter(|_| data("data-previewed") == "true")
        // The markup's text, not `value()`: a browser may restore a form field's old value.
        .and_then(|t| t.input.default_value().ok());
    let parts = Parts {
        people: part(&root, "people")?,
        status: part(&root, "status")?,
        undo: part(&root, "undo")?,
        redo: part(&root, "redo")?,
        text,
        map,
        root,
    };
    let user = User {
        color: color_for(&name),
        name,
    };
    let clock = || js_sys::Date::now() as u64;
    let editor = Editor {
        session: if is_map {
            Session::for_map(user, !can_edit, clock)
        } else {
            Session::new(user, !can_edit, clock)
        },
        parts,
        url,
        preview_url,
        store_key: (can_edit && !account.is_empty())
            .then(|| format!("arbor:unsaved:{account}:{doc_name}")),
        doc_name,
        socket: None,
        socket_handlers: Vec::new(),
        link: Link::Connecting,
        failures: 0,
        next_attempt: 0.0,
        attempt_started: now(),
        opened_at: now(),
        last_heard: now(),
        notice: (String::new(), 0.0),
        promoted: false,
        confirm_generation: 0,
        last_renewed: now(),
        composing: false,
        deferred: Vec::new(),
        render_queued: false,
        drawn: None,
        preview_generation: 0,
        previewed,
        listeners: Vec::new(),
        tick: None,
        destroyed: false,
    };
    let shared = Rc::new(RefCell::new(editor));
    {
        let ed = shared.borrow();
        let p = &ed.parts;
        if let Some(text) = &p.text {
            text.input.set_read_only(true);
        }
        // Shown in place of the plain form, which stays for browsers without JavaScript.
        for fallback in p
            .root
            .query_selector_all("[data-role=\"fallback\"]")?
            .values()
        {
            fallback?.unchecked_into::<HtmlElement>().set_hidden(true);
        }
        if let Some(live) = p.root.query_selector("[data-role=\"live\"]")? {
            live.unchecked_into::<HtmlElement>().set_hidden(false);
        }
    }
    {
        let mut ed = shared.borrow_mut();
        ed.restore();
        ed.refresh();
    }
    listen(&shared)?;
    if is_map {
        crate::map_view::listen(&shared)?;
    }
    connect(&shared);
    start_tick(&shared);
    LIVE.with(|live| live.borrow_mut().push(shared.clone()));
    Ok(EditorHandle(shared))
}

/// Calls `f` with the editor unless it is gone or destroyed. An event the browser fires
/// synchronously while a handler runs (a focus change, say) finds the editor busy and is
/// skipped rather than borrowing it twice.
fn with(weak: &Weak<RefCell<Editor>>, f: impl FnOnce(&mut Editor, &Shared)) {
    if let Some(shared) = weak.upgrade() {
        let Ok(mut ed) = shared.try_borrow_mut() else {
            return;
        };
        if !ed.destroyed {
            f(&mut ed, &shared);
        }
    }
}

pub(crate) fn on(
    shared: &Shared,
    target: &EventTarget,
    event: &'static str,
    mut f: impl FnMut(&mut Editor, &Shared, Event) + 'static,
) -> Result<(), JsValue> {
    let weak = Rc::downgrade(shared);
    let closure = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
        with(&weak, |ed, shared| f(ed, shared, e));
    });
    target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())?;
    shared
        .borrow_mut()
        .listeners
        .push((target.clone(), event, closure));
    Ok(())
}

pub(crate) fn later(shared: &Shared, ms: i32, f: impl FnOnce(&mut Editor, &Shared) + 'static) {
    let weak = Rc::downgrade(shared);
    let callback = Closure::once_into_js(move || with(&weak, f));
    let _ = window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms);
}

fn listen(shared: &Shared) -> Result<(), JsValue> {
    let (undo, redo): (EventTarget, EventTarget) = {
        let p = &shared.borrow().parts;
        (p.undo.clone().into(), p.redo.clone().into())
    };
    let input: Option<EventTarget> = shared
        .borrow()
        .parts
        .text
        .as_ref()
        .map(|t| t.input.clone().into());
    if let Some(input) = input {
        listen_text(shared, &input)?;
    }
    on(shared, &undo, "click", |ed, shared, _| {
        ed.undo_or_redo(shared, false)
    })?;
    on(shared, &redo, "click", |ed, shared, _| {
        ed.undo_or_redo(shared, true)
    })?;
    on(shared, &window().into(), "online", |ed, shared, _| {
        // Back online: retry now rather than after the backoff (an attempt still hanging
        // from before is given up).
        if ed.link != Link::Online {
            ed.next_attempt = 0.0;
            if let Some(socket) = ed.socket.take() {
                detach(&socket);
                let _ = socket.close();
                ed.link = Link::Offline;
            }
            let weak = Rc::downgrade(shared);
            let callback = Closure::once_into_js(move || {
                if let Some(shared) = weak.upgrade() {
                    connect(&shared);
                }
            });
            let _ = window()
                .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 0);
        }
    })?;
    on(shared, &window().into(), "pagehide", |ed, _, _| {
        ed.keep();
        let frame = ed.session.leave();
        ed.send(&[frame]);
    })?;
    Ok(())
}

/// What only a text editor listens to.
fn listen_text(shared: &Shared, input: &EventTarget) -> Result<(), JsValue> {
    on(shared, input, "input", |ed, shared, _| {
        if ed.composing {
            return;
        }
        ed.typed(shared);
    })?;
    on(shared, input, "compositionstart", |ed, _, _| {
        ed.composing = true;
    })?;
    on(shared, input, "compositionend", |ed, shared, _| {
        ed.composing = false;
        ed.typed(shared);
        for frame in std::mem::take(&mut ed.deferred) {
            ed.take_frame(shared, &frame);
        }
    })?;
    on(shared, input, "beforeinput", |ed, shared, e| {
        let kind = js_sys::Reflect::get(&e, &"inputType".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        match kind.as_str() {
            "historyUndo" => {
                e.prevent_default();
                ed.undo_or_redo(shared, false);
            }
            "historyRedo" => {
                e.prevent_default();
                ed.undo_or_redo(shared, true);
            }
            _ => {}
        }
    })?;
    on(shared, input, "keydown", |ed, shared, e| {
        let Some(key) = e.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        if !(key.ctrl_key() || key.meta_key()) || key.alt_key() {
            return;
        }
        let redo = match key.key().to_lowercase().as_str() {
            "z" => key.shift_key(),
            "y" => true,
            _ => return,
        };
        e.prevent_default();
        ed.undo_or_redo(shared, redo);
    })?;
    for event in ["select", "keyup", "mouseup", "focus"] {
        on(shared, input, event, |ed, _, _| ed.caret_moved())?;
    }
    on(shared, &document().into(), "selectionchange", |ed, _, _| {
        ed.caret_moved()
    })?;
    on(shared, input, "scroll", |ed, _, _| ed.sync_scroll())?;
    Ok(())
}

fn start_tick(shared: &Shared) {
    let weak = Rc::downgrade(shared);
    let closure = Closure::<dyn FnMut()>::new(move || {
        let Some(shared) = weak.upgrade() else { return };
        if !shared.borrow().parts.root.is_connected() {
            destroy(&shared);
            return;
        }
        let due = {
            let mut ed = shared.borrow_mut();
            if ed.destroyed {
                return;
            }
            ed.tick()
        };
        if due {
            connect(&shared);
        }
    });
    let id = window()
        .set_interval_with_callback_and_timeout_and_arguments_0(
            closure.as_ref().unchecked_ref(),
            1_000,
        )
        .unwrap_or(0);
    shared.borrow_mut().tick = Some((id, closure));
}

fn destroy(shared: &Shared) {
    {
        let mut ed = shared.borrow_mut();
        if ed.destroyed {
            return;
        }
        ed.destroyed = true;
        let frame = ed.session.leave();
        ed.send(&[frame]);
        if let Some(socket) = ed.socket.take() {
            detach(&socket);
            let _ = socket.close_with_code(1000);
        }
        if let Some((id, _)) = &ed.tick {
            window().clear_interval_with_handle(*id);
        }
        for (target, event, closure) in &ed.listeners {
            let _ =
                target.remove_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        }
    }
    LIVE.with(|live| live.borrow_mut().retain(|e| !Rc::ptr_eq(e, shared)));
}

/// Stops a socket's events from reaching the editor (before giving it up).
fn detach(socket: &WebSocket) {
    socket.set_onclose(None);
    socket.set_onmessage(None);
    socket.set_onopen(None);
}

fn connect(shared: &Shared) {
    let mut ed = shared.borrow_mut();
    if ed.destroyed || ed.socket.is_some() || ed.link == Link::Refused {
        return;
    }
    let socket = match WebSocket::new(&ed.url) {
        Ok(socket) => socket,
        Err(_) => {
            ed.lost(false);
            return;
        }
    };
    socket.set_binary_type(BinaryType::Arraybuffer);
    ed.link = Link::Connecting;
    ed.attempt_started = now();
    ed.refresh();

    let weak = Rc::downgrade(shared);
    let onopen = Closure::<dyn FnMut(Event)>::new(move |_| {
        with(&weak, |ed, _| {
            ed.link = Link::Online;
            ed.opened_at = now();
            ed.last_heard = now();
            ed.last_renewed = now();
            let frames = ed.session.opened();
            ed.send(&frames);
            ed.refresh();
        });
    });
    let weak = Rc::downgrade(shared);
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let Ok(buffer) = e.data().dyn_into::<ArrayBuffer>() else {
            return;
        };
        let frame = Uint8Array::new(&buffer).to_vec();
        with(&weak, |ed, shared| {
            ed.last_heard = now();
            if ed.composing {
                ed.deferred.push(frame);
            } else {
                ed.take_frame(shared, &frame);
            }
        });
    });
    let weak = Rc::downgrade(shared);
    let onclose = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
        with(&weak, |ed, _| {
            ed.socket = None;
            // The holder of this read-only copy may edit now: it keeps following (the next
            // connection is read-write, but this page was built for reading) and says so.
            if e.code() == arbor_collab::Close::PROMOTED {
                ed.promoted = true;
            }
            // 4400–4499: the server refused this client for good (access withdrawn, a
            // malformed or oversized message); anything else is worth retrying.
            ed.lost((4400..4500).contains(&e.code()));
        });
    });
    socket.set_onopen(Some(onopen.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    socket.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    ed.socket_handlers = vec![Box::new(onopen), Box::new(onmessage), Box::new(onclose)];
    ed.socket = Some(socket);
}

impl Editor {
    pub(crate) fn send(&self, frames: &[Vec<u8>]) {
        let Some(socket) = &self.socket else { return };
        for frame in frames {
            // Checked before every frame: a send can start the socket closing (a proxy that
            // lost its other end closes at once), and sending on a closing socket is an error
            // in the console. What is not sent goes with the next connection's sync step.
            if socket.ready_state() != WebSocket::OPEN {
                return;
            }
            let _ = socket.send_with_u8_array(frame);
        }
    }

    /// The connection is gone: keep editing locally and retry later (unless refused).
    fn lost(&mut self, refused: bool) {
        self.session.closed();
        if refused {
            // What the server refused for good must not be sent again by the next page.
            if let (Some(key), Some(storage)) = (self.store_key.take(), local_storage()) {
                let _ = storage.remove_item(&key);
            }
        }
        self.link = if refused {
            Link::Refused
        } else {
            Link::Offline
        };
        let base = BACKOFF_MS[self.failures.min(BACKOFF_MS.len() - 1)];
        self.failures += 1;
        self.next_attempt = now() + base + js_sys::Math::random() * 500.0;
        self.redraw();
        self.refresh();
    }

    /// Once a second: notices a dead connection, renews presence, and says whether a
    /// reconnect is due.
    fn tick(&mut self) -> bool {
        let t = now();
        if self.link == Link::Connecting && t - self.attempt_started > CONNECT_TIMEOUT_MS {
            // A handshake that hangs (a black-holed network) is given up and retried.
            if let Some(socket) = self.socket.take() {
                detach(&socket);
                let _ = socket.close();
            }
            self.lost(false);
        }
        if self.link == Link::Online {
            if t - self.last_heard > SILENCE_MS {
                // Dead (a network that drops traffic may not deliver the close for minutes):
                // give it up at once and reconnect.
                if let Some(socket) = self.socket.take() {
                    detach(&socket);
                    let _ = socket.close();
                }
                self.lost(false);
                return false;
            }
            if t - self.opened_at > STABLE_MS {
                // Only a connection that stayed up resets the backoff.
                self.failures = 0;
            }
            if t - self.last_renewed > RENEW_MS {
                self.last_renewed = t;
                let frame = self.session.renew();
                self.send(&[frame]);
            }
        }
        self.refresh();
        self.socket.is_none() && self.link == Link::Offline && t >= self.next_attempt
    }

    /// The text area changed by the person's hand.
    fn typed(&mut self, shared: &Shared) {
        let Some(value) = self.parts.text.as_ref().map(|t| t.input.value()) else {
            return;
        };
        if !self.session.fits(&value) {
            // Refused here, where it is clear why, rather than by the server (which would
            // close the connection).
            let pins = self.pins();
            self.show_text(pins);
            self.notify(format!(
                "a topic holds at most {} KB of text",
                arbor_collab::Limits::default().max_text / 1000
            ));
            return;
        }
        let frames = self.session.edit(&value);
        self.send(&frames);
        if self.session.read_only() || !self.session.synced() {
            // Nothing typed here may stand: show the document again.
            self.show_text(None);
        }
        self.caret_moved();
        self.changed(shared);
    }

    pub(crate) fn undo_or_redo(&mut self, shared: &Shared, redo: bool) {
        let pins = self.pins();
        let frames = if redo {
            self.session.redo()
        } else {
            self.session.undo()
        };
        let Some(frames) = frames else {
            return;
        };
        self.send(&frames);
        self.show_text(pins);
        self.caret_moved();
        self.changed(shared);
    }

    /// Says in the status, for a few seconds, why something was refused here (rather than
    /// by the server, which would close the connection).
    pub(crate) fn notify(&mut self, message: String) {
        self.notice = (message, now() + 5_000.0);
        self.refresh();
    }

    /// After any change of the text: confirm, keep, preview and carets later, status now.
    pub(crate) fn changed(&mut self, shared: &Shared) {
        self.confirm_generation = self.confirm_generation.wrapping_add(1);
        let confirm = self.confirm_generation;
        later(shared, CONFIRM_MS, move |ed, _| {
            if ed.confirm_generation == confirm {
                if let Some(frame) = ed.session.confirm() {
                    ed.send(&[frame]);
                }
                ed.keep();
            }
        });
        self.preview_generation = self.preview_generation.wrapping_add(1);
        let generation = self.preview_generation;
        later(shared, PREVIEW_MS, move |ed, shared| {
            if ed.preview_generation == generation {
                ed.fetch_preview(shared, generation);
            }
        });
        self.queue_render_with(shared);
        self.refresh();
    }

    fn pins(&self) -> Option<[yrs::StickyIndex; 2]> {
        let input = &self.parts.text.as_ref()?.input;
        let start = input.selection_start().ok().flatten()?;
        let end = input.selection_end().ok().flatten()?;
        self.session.pin([start, end])
    }

    fn take_frame(&mut self, shared: &Shared, frame: &[u8]) {
        let pins = self.pins();
        let was_synced = self.session.synced();
        let received = self.session.receive(frame);
        self.send(&received.replies);
        if received.denied {
            self.denied();
        }
        if received.changed || (!was_synced && self.session.synced()) {
            self.show_text(pins);
            self.changed(shared);
        }
        if !was_synced
            && self.session.synced()
            && let Some(text) = &self.parts.text
        {
            text.input.set_read_only(self.session.read_only());
        }
        if received.presence_changed {
            self.queue_render_with(shared);
        }
        if self.session.saved() == Saved::All {
            self.keep();
        }
        self.refresh();
    }

    /// Keeps the document in the browser's storage while some of this person's changes are
    /// unconfirmed (so a page closed or reloaded offline loses nothing), and forgets it once
    /// the server has confirmed them all.
    fn keep(&self) {
        let (Some(key), Some(storage)) = (&self.store_key, local_storage()) else {
            return;
        };
        if self.session.saved() == Saved::All {
            let _ = storage.remove_item(key);
        } else {
            use base64::Engine;
            let state = base64::engine::general_purpose::STANDARD.encode(self.session.export());
            // Over quota: the changes are still in this page, as before.
            let _ = storage.set_item(key, &state);
        }
    }

    /// Takes back what an earlier page of this person kept (see [`Editor::keep`]).
    fn restore(&mut self) {
        let (Some(key), Some(storage)) = (&self.store_key, local_storage()) else {
            return;
        };
        let Some(state) = storage.get_item(key).ok().flatten() else {
            return;
        };
        use base64::Engine;
        let restored = base64::engine::general_purpose::STANDARD
            .decode(state)
            .is_ok_and(|bytes| self.session.import(&bytes));
        if restored {
            // Shown (read-only until the server's text arrives and is merged in).
            self.show_text(None);
        } else {
            let _ = storage.remove_item(key);
        }
    }

    /// The server refused a change: this person may only read now. Changes it refused are
    /// not in the document anyone else sees, so the page is loaded again to show the truth
    /// (once; a refusal right after that only switches to reading).
    fn denied(&mut self) {
        if let Some(text) = &self.parts.text {
            text.input.set_read_only(true);
        }
        // Changes the server refused are not worth keeping.
        if let (Some(key), Some(storage)) = (self.store_key.take(), local_storage()) {
            let _ = storage.remove_item(&key);
        }
        let key = format!("arbor:denied:{}", self.doc_name);
        let storage = window().session_storage().ok().flatten();
        let recent = storage
            .as_ref()
            .and_then(|s| s.get_item(&key).ok().flatten())
            .and_then(|t| t.parse::<f64>().ok())
            .is_some_and(|t| now() - t < 60_000.0);
        if self.session.unconfirmed() > 0 && !recent {
            if let Some(storage) = storage {
                let _ = storage.set_item(&key, &now().to_string());
            }
            let _ = window().location().reload();
        }
    }

    /// Puts the document's text in the text area with the smallest replacement (so the
    /// browser keeps its scroll position), then the caret where `pins` say.
    fn show_text(&mut self, pins: Option<[yrs::StickyIndex; 2]>) {
        if self.parts.map.is_some() {
            self.draw_map();
            return;
        }
        let Some(TextParts { input, .. }) = &self.parts.text else {
            return;
        };
        let shown = input.value();
        let text = self.session.text();
        if let Some(s) = splice(&shown, &text) {
            let _ =
                input.set_range_text_with_start_and_end(s.inserted, s.start, s.start + s.removed);
        }
        if let Some([a, b]) = pins.as_ref().and_then(|p| self.session.unpin(p)) {
            let _ = input.set_selection_range(a.min(b), a.max(b));
        }
    }

    fn caret_moved(&mut self) {
        let Some(TextParts { input, .. }) = &self.parts.text else {
            return;
        };
        let (Ok(Some(start)), Ok(Some(end))) = (input.selection_start(), input.selection_end())
        else {
            return;
        };
        let backward = input.selection_direction().ok().flatten().as_deref() == Some("backward");
        let (anchor, head) = if backward { (end, start) } else { (start, end) };
        if let Some(frame) = self.session.move_caret(anchor, head) {
            self.send(&[frame]);
            self.last_renewed = now();
        }
    }

    fn sync_scroll(&self) {
        if let Some(text) = &self.parts.text {
            text.carets.set_scroll_top(text.input.scroll_top());
        }
    }

    fn redraw(&mut self) {
        self.render_people();
        if self.parts.map.is_some() {
            self.draw_map();
        } else {
            self.render_carets();
        }
    }

    fn queue_render_with(&mut self, shared: &Shared) {
        if self.render_queued {
            return;
        }
        self.render_queued = true;
        let weak = Rc::downgrade(shared);
        let callback = Closure::once_into_js(move || {
            with(&weak, |ed, _| {
                ed.render_queued = false;
                ed.redraw();
            })
        });
        let _ = window().request_animation_frame(callback.unchecked_ref());
    }

    fn render_people(&self) {
        let list = &self.parts.people;
        list.set_text_content(None);
        let doc = document();
        for (i, user) in self.session.people().into_iter().enumerate() {
            let Ok(item) = doc.create_element("li") else {
                continue;
            };
            let item: HtmlElement = item.unchecked_into();
            let _ = item.set_attribute("data-testid", "person");
            item.set_class_name("live-person");
            let _ = item.style().set_property("--person-color", &user.color);
            item.set_text_content(Some(&if i == 0 {
                format!("{} (you)", user.name)
            } else {
                user.name
            }));
            let _ = list.append_child(&item);
        }
    }

    /// Redraws the others' carets and selections in the layer over the text area: the same
    /// text, transparent, with marks at their offsets, so it wraps exactly like the text.
    ///
    /// Only the text up to the end of the line holding the last caret is laid out (what comes
    /// after cannot move a caret), and nothing is redrawn when that and the carets are as
    /// last drawn — so typing below everyone else's caret costs no layout of this layer.
    fn render_carets(&mut self) {
        let Some(text) = &self.parts.text else {
            return;
        };
        let carets = self.session.carets();
        let full = text.input.value();
        let last = carets.iter().map(|c| c.anchor.max(c.head)).max();
        let text = match last {
            Some(last) => {
                let at = byte_index(&full, last);
                let line_end = full[at..].find('\n').map_or(full.len(), |i| at + i);
                full[..line_end].to_owned()
            }
            None => String::new(),
        };
        let key = (text, carets.clone());
        if self.drawn.as_ref() == Some(&key) {
            return;
        }
        let Some(TextParts { carets: layer, .. }) = &self.parts.text else {
            return;
        };
        layer.set_text_content(None);
        let (text, carets) = &key;
        if carets.is_empty() {
            self.drawn = Some(key);
            return;
        }
        let mut cuts: Vec<u32> = carets
            .iter()
            .flat_map(|c| [c.anchor, c.head])
            .chain([0, u32::MAX])
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let doc = document();
        for pair in cuts.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            for caret in carets.iter().filter(|c| c.head == from) {
                if let Ok(mark) = caret_mark(&doc, &caret.user) {
                    let _ = layer.append_child(&mark);
                }
            }
            let segment = &text[byte_index(text, from)..byte_index(text, to)];
            if segment.is_empty() {
                continue;
            }
            let selected = carets.iter().find(|c| {
                let (lo, hi) = (c.anchor.min(c.head), c.anchor.max(c.head));
                lo <= from && to <= hi && lo < hi
            });
            match selected.and_then(|c| doc.create_element("span").ok().map(|s| (c, s))) {
                Some((caret, span)) => {
                    let span: HtmlElement = span.unchecked_into();
                    span.set_class_name("live-selection");
                    let _ = span
                        .style()
                        .set_property("--person-color", &caret.user.color);
                    span.set_text_content(Some(segment));
                    let _ = layer.append_child(&span);
                }
                None => {
                    let _ = layer.append_child(&doc.create_text_node(segment));
                }
            }
        }
        // A trailing newline needs something after it to take up a line.
        let _ = layer.append_child(&doc.create_text_node("\u{200b}"));
        // The text stops at the last caret's line; below it, room to scroll as far as the
        // text area can (100 KB of text is far less than this tall), without measuring the
        // text area on every keystroke.
        if let Ok(spacer) = doc.create_element("div") {
            let spacer: HtmlElement = spacer.unchecked_into();
            let _ = spacer.style().set_property("height", "4000000px");
            let _ = layer.append_child(&spacer);
        }
        self.sync_scroll();
        self.drawn = Some(key);
    }

    fn fetch_preview(&self, shared: &Shared, generation: u32) {
        if self.preview_url.is_empty() {
            return;
        }
        let source = self.session.text();
        if self.previewed.as_ref() == Some(&source) {
            return;
        }
        let body = serde_json::json!({ "body": source }).to_string();
        let url = self.preview_url.clone();
        let weak = Rc::downgrade(shared);
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(html) = preview(&url, &body).await else {
                return;
            };
            with(&weak, |ed, _| {
                if ed.preview_generation == generation
                    && let Some(text) = &ed.parts.text
                {
                    text.preview.set_inner_html(&html);
                    ed.previewed = Some(source);
                }
            });
        });
    }

    /// The status line and the data attributes tests and styles read.
    fn refresh(&self) {
        let p = &self.parts;
        let saved = self.session.saved() == Saved::All;
        let unconfirmed = self.session.unconfirmed();
        let (link, mut text) = match self.link {
            Link::Connecting => ("connecting", "Connecting…".to_owned()),
            Link::Online if !self.session.synced() => ("connecting", "Loading…".to_owned()),
            Link::Online if self.session.read_only() && self.promoted => (
                "online",
                "Live · view only · you may edit now: reload the page".to_owned(),
            ),
            Link::Online if self.session.read_only() => ("online", "Live · view only".to_owned()),
            Link::Online if saved => ("online", "Live · all changes saved".to_owned()),
            Link::Online => ("online", "Live · saving…".to_owned()),
            Link::Offline if unconfirmed > 0 => (
                "offline",
                format!(
                    "Offline · {unconfirmed} unsaved change{} kept here, sent when the connection returns",
                    if unconfirmed == 1 { "" } else { "s" }
                ),
            ),
            Link::Offline => ("offline", "Offline · reconnecting…".to_owned()),
            Link::Refused => ("refused", "Disconnected · reload the page".to_owned()),
        };
        if now() < self.notice.1 {
            text = format!("{text} · {}", self.notice.0);
        }
        let _ = p.root.set_attribute("data-link", link);
        let _ = p
            .root
            .set_attribute("data-saved", if saved { "true" } else { "false" });
        let mode = if self.session.read_only() {
            "view"
        } else {
            "edit"
        };
        let _ = p.root.set_attribute("data-mode", mode);
        if p.status.text_content().as_deref() != Some(text.as_str()) {
            p.status.set_text_content(Some(&text));
        }
        p.undo.set_disabled(!self.session.can_undo());
        p.redo.set_disabled(!self.session.can_redo());
    }
}

pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn caret_mark(doc: &Document, user: &User) -> Result<Element, JsValue> {
    let mark: HtmlElement = doc.create_element("span")?.unchecked_into();
    mark.set_class_name("live-caret");
    mark.style().set_property("--person-color", &user.color)?;
    mark.set_attribute("data-testid", "remote-caret")?;
    let label: HtmlElement = doc.create_element("span")?.unchecked_into();
    label.set_class_name("live-caret-name");
    label.set_text_content(Some(&user.name));
    mark.append_child(&label)?;
    Ok(mark.into())
}

/// The server's rendering of `body` (`{"body"}` in, `{"html"}` out): exactly what readers
/// will see, links resolved with this person's access.
async fn preview(url: &str, body: &str) -> Result<String, JsValue> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let request = Request::new_with_str_and_init(url, &init)?;
    request.headers().set("content-type", "application/json")?;
    let response: Response = JsFuture::from(window().fetch_with_request(&request))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from_str("preview refused"));
    }
    let json = JsFuture::from(response.json()?).await?;
    js_sys::Reflect::get(&json, &"html".into())?
        .as_string()
        .ok_or_else(|| JsValue::from_str("no html in the preview"))
}
