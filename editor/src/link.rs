//! A live editor's link to the server: the websocket and the y-websocket conversation over it
//! (through the [`Session`]), kept open (a connection timeout, a liveness check, reconnecting
//! with backoff and when the browser is back online), and what the person is told about it:
//! the status line (connecting, saved, offline with unsaved changes, refused), who else is
//! here, and the undo and redo buttons. Changes not yet confirmed are kept in the browser's
//! storage, so a page closed offline loses nothing.
//!
//! An editor is an [`Editor<V>`]: this link and a view `V` (`text_view.rs`, `map_view.rs`),
//! which the link drives through the [`View`] trait alone: it knows nothing of text areas or
//! SVG. Views call back into the link through the editor's fields and methods (`send`,
//! [`Editor::changed`], [`Editor::undo_or_redo`], [`Link::notify`]).
//!
//! Every handler borrows the editor once and never calls back into the page in a way that
//! fires another handler synchronously (`setRangeText` and `value` fire no `input` event).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    BinaryType, CloseEvent, Event, EventTarget, HtmlButtonElement, HtmlElement, MessageEvent,
    WebSocket,
};

use crate::dom::{
    Announcer, Host, Listeners, document, later, local_storage, next_frame, now, on, part, soon,
    window, with,
};
use crate::session::{Clock, Saved, Session, User, color_for};

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
/// Quiet time before asking the server to confirm what was changed.
const CONFIRM_MS: i32 = 300;

thread_local! {
    /// Mounted editors, so they live until destroyed whatever the page does with the handle.
    static LIVE: RefCell<Vec<Rc<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A mounted editor, as its handlers and timers hold it.
pub(crate) type Shared<V> = Rc<RefCell<Editor<V>>>;

/// What the link asks of the view it drives: everything it calls, and nothing about how
/// the document is shown.
pub(crate) trait View: Sized + 'static {
    /// What the view holds on to across a change it did not make: a text's selection, pinned
    /// to the document; nothing for a map.
    type Pins: Default;

    /// A session on this kind of document (a topic's text, a subject's map).
    fn session(user: User, read_only: bool, clock: Clock) -> Session;

    /// Adds the view's own event listeners (with [`crate::dom::on`], so they go with the
    /// editor).
    fn listen(shared: &Shared<Self>) -> Result<(), JsValue>;

    /// Pins what [`View::show`] is to keep in place, before the document changes.
    fn pins(&self, session: &Session) -> Self::Pins;

    /// The document changed under the view (someone else's change, an undo or redo, the
    /// server's copy arriving, what this browser had kept): shows it, with `pins` in place.
    fn show(&mut self, session: &Session, pins: Self::Pins);

    /// Draws the others' presence again (their carets, their selections).
    fn redraw(&mut self, session: &Session);

    /// This person's undo (or `redo`) was applied and shown: the view may say what it did.
    fn undone(&mut self, _session: &Session, _redo: bool) {}

    /// Lets the person edit, or not: read-only from the start, until the server's document
    /// is here, and for good after a refusal.
    fn set_editable(&mut self, editable: bool);

    /// After any change of the document, once shown: what the view does later (a text's
    /// preview).
    fn changed(&mut self, shared: &Shared<Self>);

    /// This person's caret (anchor and head, UTF-16 offsets), for the view that has one: it
    /// is announced after an undo or redo moves it.
    fn caret(&self) -> Option<(u32, u32)> {
        None
    }

    /// Whether frames from the server must wait (an IME composition under way would break
    /// if the text changed under it); the view hands them back with [`Editor::take_held`].
    fn holds_frames(&self) -> bool {
        false
    }
}

/// The state of the connection, as the status line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    Online,
    Offline,
    /// The server refused this person (access withdrawn, or a refused change): no retry.
    Refused,
}

/// A live editor: the link and the view it drives.
pub(crate) struct Editor<V> {
    pub(crate) link: Link,
    pub(crate) view: V,
}

/// The connection, the document's session, and the parts every editor has.
pub(crate) struct Link {
    pub(crate) session: Session,
    /// The editor's element (its `data-link`, `data-saved` and `data-mode` say the state).
    root: HtmlElement,
    people: HtmlElement,
    status: HtmlElement,
    /// Where a screen reader is told what changed about the connection (the status line
    /// itself is not a live region: it changes at every keystroke).
    announcer: Announcer,
    /// The connection as last told ([`Link::tell`]), and whether "all changes saved" is
    /// still to be told after coming back online.
    told: Cell<(State, bool)>,
    undo: HtmlButtonElement,
    redo: HtmlButtonElement,
    url: String,
    doc_name: String,
    /// Where unconfirmed changes are kept in the browser (`None` for viewers and guests).
    store_key: Option<String>,
    socket: Option<WebSocket>,
    /// The current socket's handlers; the previous socket's are dropped when the next opens.
    socket_handlers: Vec<Box<dyn Any>>,
    state: State,
    failures: usize,
    next_attempt: f64,
    attempt_started: f64,
    opened_at: f64,
    last_heard: f64,
    last_renewed: f64,
    /// A refusal the status shows (the text at its largest, the map at its limits), and
    /// until when.
    notice: (String, f64),
    /// The server said this read-only copy's holder may edit now (reload to get the editor).
    promoted: bool,
    confirm_generation: u32,
    /// Frames that arrived while the view held them (see [`View::holds_frames`]).
    held: Vec<Vec<u8>>,
    redraw_queued: bool,
    listeners: Listeners,
    tick: Option<(i32, Closure<dyn FnMut()>)>,
    destroyed: bool,
}

/// The mounted editor, as handed to the page's script.
#[wasm_bindgen]
pub struct EditorHandle(Box<dyn Fn()>);

#[wasm_bindgen]
impl EditorHandle {
    /// Leaves the document (presence removed at once), closes the connection and stops every
    /// timer. The page calls it when the editor's element goes away.
    pub fn destroy(&self) {
        (self.0)();
    }
}

impl<V: View> Host for Editor<V> {
    fn alive(&self) -> bool {
        !self.link.destroyed
    }

    fn listeners(&mut self) -> &mut Listeners {
        &mut self.link.listeners
    }
}

/// Mounts a live editor with `view` on `root`, the element the server rendered with
/// `data-doc`, `data-user` (the name to show others), `data-can-edit`, `data-account`, and
/// the parts marked `data-role` (status, people, undo, redo; the view finds its own).
pub(crate) fn mount<V: View>(root: HtmlElement, view: V) -> Result<EditorHandle, JsValue> {
    console_error_panic_hook::set_once();
    let data = |name: &str| root.get_attribute(name).unwrap_or_default();
    let doc_name = data("data-doc");
    let name = match data("data-user") {
        n if n.is_empty() => "Guest".to_owned(),
        n => n,
    };
    let can_edit = data("data-can-edit") == "true";
    let account = data("data-account");
    let location = window().location();
    let scheme = if location.protocol()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let url = format!("{scheme}://{}/collab/{doc_name}", location.host()?);
    let user = User {
        color: color_for(&name),
        name,
    };
    let clock = || js_sys::Date::now() as u64;
    let link = Link {
        session: V::session(user, !can_edit, clock),
        people: part(&root, "people")?,
        status: part(&root, "status")?,
        announcer: Announcer::find(&root),
        told: Cell::new((State::Connecting, false)),
        undo: part(&root, "undo")?,
        redo: part(&root, "redo")?,
        root,
        url,
        store_key: (can_edit && !account.is_empty())
            .then(|| format!("arbor:unsaved:{account}:{doc_name}")),
        doc_name,
        socket: None,
        socket_handlers: Vec::new(),
        state: State::Connecting,
        failures: 0,
        next_attempt: 0.0,
        attempt_started: now(),
        opened_at: now(),
        last_heard: now(),
        last_renewed: now(),
        notice: (String::new(), 0.0),
        promoted: false,
        confirm_generation: 0,
        held: Vec::new(),
        redraw_queued: false,
        listeners: Listeners::default(),
        tick: None,
        destroyed: false,
    };
    let shared = Rc::new(RefCell::new(Editor { link, view }));
    {
        let mut ed = shared.borrow_mut();
        ed.view.set_editable(false);
        let root = &ed.link.root;
        // Shown in place of the plain form, which stays for browsers without JavaScript.
        for fallback in root
            .query_selector_all("[data-role=\"fallback\"]")?
            .values()
        {
            fallback?.unchecked_into::<HtmlElement>().set_hidden(true);
        }
        if let Some(live) = root.query_selector("[data-role=\"live\"]")? {
            live.unchecked_into::<HtmlElement>().set_hidden(false);
        }
        ed.restore();
        ed.link.refresh();
    }
    listen(&shared)?;
    V::listen(&shared)?;
    connect(&shared);
    start_tick(&shared);
    LIVE.with(|live| live.borrow_mut().push(shared.clone()));
    Ok(EditorHandle(Box::new(move || destroy(&shared))))
}

/// What every editor listens to: its undo and redo buttons, and the window going online or
/// away.
fn listen<V: View>(shared: &Shared<V>) -> Result<(), JsValue> {
    let (undo, redo): (EventTarget, EventTarget) = {
        let link = &shared.borrow().link;
        (link.undo.clone().into(), link.redo.clone().into())
    };
    on(shared, &undo, "click", |ed, shared, _| {
        ed.undo_or_redo(shared, false);
    })?;
    on(shared, &redo, "click", |ed, shared, _| {
        ed.undo_or_redo(shared, true);
    })?;
    on(shared, &window().into(), "online", |ed, shared, _| {
        // Back online: retry now rather than after the backoff (an attempt still hanging
        // from before is given up).
        let link = &mut ed.link;
        if link.state != State::Online {
            link.next_attempt = 0.0;
            if link.drop_socket() {
                link.state = State::Offline;
            }
            let weak = Rc::downgrade(shared);
            soon(move || {
                if let Some(shared) = weak.upgrade() {
                    connect(&shared);
                }
            });
        }
    })?;
    on(shared, &window().into(), "offline", |ed, _, _| {
        // The browser knows the network is gone; an open socket may not notice for a while
        // (until the liveness check), and meanwhile the status would say "saving…".
        if ed.link.state == State::Online && ed.link.drop_socket() {
            ed.lost(false);
            ed.link.refresh();
        }
    })?;
    on(shared, &window().into(), "pagehide", |ed, _, _: Event| {
        let link = &mut ed.link;
        link.keep();
        let frame = link.session.leave();
        link.send(&[frame]);
    })?;
    Ok(())
}

fn start_tick<V: View>(shared: &Shared<V>) {
    let weak = Rc::downgrade(shared);
    let closure = Closure::<dyn FnMut()>::new(move || {
        let Some(shared) = weak.upgrade() else { return };
        if !shared.borrow().link.root.is_connected() {
            destroy(&shared);
            return;
        }
        let due = {
            let mut ed = shared.borrow_mut();
            if ed.link.destroyed {
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
    shared.borrow_mut().link.tick = Some((id, closure));
}

fn destroy<V: View>(shared: &Shared<V>) {
    {
        let mut ed = shared.borrow_mut();
        let link = &mut ed.link;
        if link.destroyed {
            return;
        }
        link.destroyed = true;
        let frame = link.session.leave();
        link.send(&[frame]);
        if let Some(socket) = link.socket.take() {
            detach(&socket);
            let _ = socket.close_with_code(1000);
        }
        if let Some((id, _)) = &link.tick {
            window().clear_interval_with_handle(*id);
        }
        link.listeners.remove_all();
    }
    LIVE.with(|live| {
        live.borrow_mut()
            .retain(|e| !std::ptr::addr_eq(Rc::as_ptr(e), Rc::as_ptr(shared)));
    });
}

/// Stops a socket's events from reaching the editor (before giving it up).
fn detach(socket: &WebSocket) {
    socket.set_onclose(None);
    socket.set_onmessage(None);
    socket.set_onopen(None);
}

fn connect<V: View>(shared: &Shared<V>) {
    let mut guard = shared.borrow_mut();
    let ed = &mut *guard;
    if ed.link.destroyed || ed.link.socket.is_some() || ed.link.state == State::Refused {
        return;
    }
    let socket = match WebSocket::new(&ed.link.url) {
        Ok(socket) => socket,
        Err(_) => {
            ed.lost(false);
            return;
        }
    };
    socket.set_binary_type(BinaryType::Arraybuffer);
    ed.link.state = State::Connecting;
    ed.link.attempt_started = now();
    ed.link.refresh();

    let weak = Rc::downgrade(shared);
    let onopen = Closure::<dyn FnMut(Event)>::new(move |_| {
        with(&weak, |ed, _| ed.link.opened());
    });
    let weak = Rc::downgrade(shared);
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let Ok(buffer) = e.data().dyn_into::<ArrayBuffer>() else {
            return;
        };
        let frame = Uint8Array::new(&buffer).to_vec();
        with(&weak, |ed, shared| {
            ed.link.last_heard = now();
            if ed.view.holds_frames() {
                ed.link.held.push(frame);
            } else {
                ed.take_frame(shared, &frame);
            }
        });
    });
    let weak = Rc::downgrade(shared);
    let onclose = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
        with(&weak, |ed, _| {
            ed.link.socket = None;
            // The holder of this read-only copy may edit now: it keeps following (the next
            // connection is read-write, but this page was built for reading) and says so.
            if e.code() == arbor_collab::Close::PROMOTED {
                ed.link.promoted = true;
            }
            // 4400–4499: the server refused this client for good (access withdrawn, a
            // malformed or oversized message); anything else is worth retrying.
            ed.lost((4400..4500).contains(&e.code()));
        });
    });
    socket.set_onopen(Some(onopen.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    socket.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    let link = &mut ed.link;
    link.socket_handlers = vec![Box::new(onopen), Box::new(onmessage), Box::new(onclose)];
    link.socket = Some(socket);
}

impl<V: View> Editor<V> {
    /// A frame from the server: into the session, and what it changed onto the page.
    fn take_frame(&mut self, shared: &Shared<V>, frame: &[u8]) {
        let pins = self.view.pins(&self.link.session);
        let was_synced = self.link.session.synced();
        let received = self.link.session.receive(frame);
        self.link.send(&received.replies);
        if received.denied {
            self.denied();
        }
        let now_synced = !was_synced && self.link.session.synced();
        if received.changed || now_synced {
            self.view.show(&self.link.session, pins);
            self.changed(shared);
        }
        if now_synced {
            self.view.set_editable(!self.link.session.read_only());
        }
        if received.presence_changed {
            self.queue_redraw(shared);
        }
        if self.link.session.saved() == Saved::All {
            self.link.keep();
        }
        self.link.refresh();
    }

    /// Takes the frames the view held (see [`View::holds_frames`]).
    pub(crate) fn take_held(&mut self, shared: &Shared<V>) {
        for frame in std::mem::take(&mut self.link.held) {
            self.take_frame(shared, &frame);
        }
    }

    /// After any change of the document: confirm and keep later, the view's own work, a
    /// redraw, the status now.
    pub(crate) fn changed(&mut self, shared: &Shared<V>) {
        let link = &mut self.link;
        link.confirm_generation = link.confirm_generation.wrapping_add(1);
        let confirm = link.confirm_generation;
        later(shared, CONFIRM_MS, move |ed: &mut Editor<V>, _| {
            let link = &mut ed.link;
            if link.confirm_generation == confirm {
                if let Some(frame) = link.session.confirm() {
                    link.send(&[frame]);
                }
                link.keep();
            }
        });
        self.view.changed(shared);
        self.queue_redraw(shared);
        self.link.refresh();
    }

    /// Takes back this person's last change (or brings back the last one taken back).
    pub(crate) fn undo_or_redo(&mut self, shared: &Shared<V>, redo: bool) {
        let pins = self.view.pins(&self.link.session);
        let frames = if redo {
            self.link.session.redo()
        } else {
            self.link.session.undo()
        };
        let Some(frames) = frames else {
            return;
        };
        self.link.send(&frames);
        self.view.show(&self.link.session, pins);
        self.link.caret_moved(self.view.caret());
        self.changed(shared);
        self.view.undone(&self.link.session, redo);
    }

    /// The connection is gone: keep editing locally and retry later (unless refused).
    fn lost(&mut self, refused: bool) {
        let link = &mut self.link;
        link.session.closed();
        if refused {
            // What the server refused for good must not be sent again by the next page.
            link.forget_kept();
        }
        link.state = if refused {
            State::Refused
        } else {
            State::Offline
        };
        let base = BACKOFF_MS[link.failures.min(BACKOFF_MS.len() - 1)];
        link.failures += 1;
        link.next_attempt = now() + base + js_sys::Math::random() * 500.0;
        self.redraw();
        self.link.refresh();
    }

    /// Once a second: notices a dead connection, renews presence, and says whether a
    /// reconnect is due.
    fn tick(&mut self) -> bool {
        let t = now();
        if self.link.state == State::Connecting
            && t - self.link.attempt_started > CONNECT_TIMEOUT_MS
        {
            // A handshake that hangs (a black-holed network) is given up and retried.
            self.link.drop_socket();
            self.lost(false);
        }
        let link = &mut self.link;
        if link.state == State::Online {
            if t - link.last_heard > SILENCE_MS {
                // Dead (a network that drops traffic may not deliver the close for minutes):
                // give it up at once and reconnect.
                link.drop_socket();
                self.lost(false);
                return false;
            }
            if t - link.opened_at > STABLE_MS {
                // Only a connection that stayed up resets the backoff.
                link.failures = 0;
            }
            if t - link.last_renewed > RENEW_MS {
                link.last_renewed = t;
                let frame = link.session.renew();
                link.send(&[frame]);
            }
        }
        let link = &self.link;
        link.refresh();
        link.socket.is_none() && link.state == State::Offline && t >= link.next_attempt
    }

    /// Takes back what an earlier page of this person kept (see [`Link::keep`]) and shows it
    /// (read-only until the server's document arrives and is merged in).
    fn restore(&mut self) {
        if self.link.restore() {
            self.view.show(&self.link.session, V::Pins::default());
        }
    }

    /// The server refused a change: this person may only read now.
    fn denied(&mut self) {
        self.view.set_editable(false);
        self.link.denied();
    }

    fn redraw(&mut self) {
        self.link.render_people();
        self.view.redraw(&self.link.session);
    }

    /// Redraws before the next paint (once, however many changes come before it).
    fn queue_redraw(&mut self, shared: &Shared<V>) {
        if self.link.redraw_queued {
            return;
        }
        self.link.redraw_queued = true;
        next_frame(shared, |ed: &mut Editor<V>, _| {
            ed.link.redraw_queued = false;
            ed.redraw();
        });
    }
}

impl Link {
    /// Sends `frames` while the connection is open (what is not sent goes with the next
    /// connection's sync step).
    pub(crate) fn send(&self, frames: &[Vec<u8>]) {
        let Some(socket) = &self.socket else { return };
        for frame in frames {
            // Checked before every frame: a send can start the socket closing (a proxy that
            // lost its other end closes at once), and sending on a closing socket is an error
            // in the console.
            if socket.ready_state() != WebSocket::OPEN {
                return;
            }
            let _ = socket.send_with_u8_array(frame);
        }
    }

    /// Says in the status, for a few seconds, why something was refused here (rather than
    /// by the server, which would close the connection).
    pub(crate) fn notify(&mut self, message: String) {
        self.announcer.say(&message);
        self.notice = (message, now() + 5_000.0);
        self.refresh();
    }

    /// Announces this person's caret, when the view has one and it moved.
    pub(crate) fn caret_moved(&mut self, caret: Option<(u32, u32)>) {
        let Some((anchor, head)) = caret else {
            return;
        };
        if let Some(frame) = self.session.move_caret(anchor, head) {
            self.send(&[frame]);
            self.last_renewed = now();
        }
    }

    /// The connection opened: the sync step and presence go first.
    fn opened(&mut self) {
        self.state = State::Online;
        self.opened_at = now();
        self.last_heard = now();
        self.last_renewed = now();
        let frames = self.session.opened();
        self.send(&frames);
        self.refresh();
    }

    /// Gives up the socket, if any, without hearing from it again; whether there was one.
    fn drop_socket(&mut self) -> bool {
        let Some(socket) = self.socket.take() else {
            return false;
        };
        detach(&socket);
        let _ = socket.close();
        true
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

    /// Takes back what an earlier page of this person kept (see [`Link::keep`]); whether
    /// there was something to take.
    fn restore(&mut self) -> bool {
        let (Some(key), Some(storage)) = (&self.store_key, local_storage()) else {
            return false;
        };
        let Some(state) = storage.get_item(key).ok().flatten() else {
            return false;
        };
        use base64::Engine;
        let restored = base64::engine::general_purpose::STANDARD
            .decode(state)
            .is_ok_and(|bytes| self.session.import(&bytes));
        if !restored {
            let _ = storage.remove_item(key);
        }
        restored
    }

    /// Forgets what is kept in the browser, and keeps nothing from now on.
    fn forget_kept(&mut self) {
        if let (Some(key), Some(storage)) = (self.store_key.take(), local_storage()) {
            let _ = storage.remove_item(&key);
        }
    }

    /// The server refused a change. Changes it refused are not in the document anyone else
    /// sees, so the page is loaded again to show the truth (once; a refusal right after that
    /// only switches to reading).
    fn denied(&mut self) {
        // Changes the server refused are not worth keeping.
        self.forget_kept();
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

    fn render_people(&self) {
        let list = &self.people;
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

    /// The status line and the data attributes tests and styles read.
    fn refresh(&self) {
        let saved = self.session.saved() == Saved::All;
        let unconfirmed = self.session.unconfirmed();
        let (state, mut text) = match self.state {
            State::Connecting => ("connecting", "Connecting…".to_owned()),
            State::Online if !self.session.synced() => ("connecting", "Loading…".to_owned()),
            State::Online if self.session.read_only() && self.promoted => (
                "online",
                "Live · view only · you may edit now: reload the page".to_owned(),
            ),
            State::Online if self.session.read_only() => ("online", "Live · view only".to_owned()),
            State::Online if saved => ("online", "Live · all changes saved".to_owned()),
            State::Online => ("online", "Live · saving…".to_owned()),
            State::Offline if unconfirmed > 0 => (
                "offline",
                format!(
                    "Offline · {unconfirmed} unsaved change{} kept here, sent when the connection returns",
                    if unconfirmed == 1 { "" } else { "s" }
                ),
            ),
            State::Offline => ("offline", "Offline · reconnecting…".to_owned()),
            State::Refused => ("refused", "Disconnected · reload the page".to_owned()),
        };
        if now() < self.notice.1 {
            text = format!("{text} · {}", self.notice.0);
        }
        let _ = self.root.set_attribute("data-link", state);
        let _ = self
            .root
            .set_attribute("data-saved", if saved { "true" } else { "false" });
        let mode = if self.session.read_only() {
            "view"
        } else {
            "edit"
        };
        let _ = self.root.set_attribute("data-mode", mode);
        if self.status.text_content().as_deref() != Some(text.as_str()) {
            self.status.set_text_content(Some(&text));
        }
        self.undo.set_disabled(!self.session.can_undo());
        self.redo.set_disabled(!self.session.can_redo());
        self.tell(saved);
    }

    /// Tells a screen reader when the connection is lost, comes back (and, once it has,
    /// when everything is saved), or is refused; never the first connection or each save.
    /// Between two attempts the connection is still "offline", as told.
    fn tell(&self, saved: bool) {
        let (told, owed) = self.told.get();
        let now_state = match self.state {
            State::Online if !self.session.synced() => State::Connecting,
            state => state,
        };
        let (said, told, owed) = match now_state {
            State::Connecting => (None, told, owed),
            state if state == told => {
                let due = owed && saved;
                (due.then_some("All changes saved."), told, owed && !due)
            }
            State::Offline => (
                Some("Offline. Reconnecting; your changes are kept in this browser until then."),
                State::Offline,
                false,
            ),
            State::Refused => (
                Some("Disconnected. Reload the page to go on."),
                State::Refused,
                false,
            ),
            State::Online if told == State::Offline && saved => (
                Some("Back online. All changes saved."),
                State::Online,
                false,
            ),
            State::Online if told == State::Offline => {
                (Some("Back online. Saving…"), State::Online, true)
            }
            State::Online => (None, State::Online, false),
        };
        if let Some(text) = said {
            self.announcer.say(text);
        }
        self.told.set((told, owed));
    }
}
