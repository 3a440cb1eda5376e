//! A topic's text editor's view (WebAssembly only): the markdown text area, the others'
//! carets and selections drawn in a layer over it, and the preview the server renders of it.
//! Typing becomes the smallest splice of the session's text; while an IME composition is
//! under way, frames from the server wait (see [`View::holds_frames`]). The connection,
//! saving, presence and undo are the link's (`link.rs`).
//!
//! Typing `[[` offers the subject's topics whose titles match what follows (a listbox under
//! the text: ↓ ↑ to move, Enter or Tab to choose, Escape to close, or a click), and the chosen
//! title is written with its closing `]]` — the rules are `crate::wikilinks`'s. The titles
//! are fetched once, the first time, from the subject's JSON (`GET /api/v1/subjects/{slug}`).

use std::rc::Rc;

use arbor_collab::diff::{byte_index, splice};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Document, Element, EventTarget, HtmlElement, HtmlTextAreaElement, KeyboardEvent, Request,
    RequestInit, Response,
};

use crate::dom::{document, later, on, part, window, with};
use crate::link::{Editor, EditorHandle, Shared, View};
use crate::session::{Clock, RemoteCaret, Session, User};
use crate::wikilinks::{self, Open};

/// Quiet time before asking for a preview.
const PREVIEW_MS: i32 = 250;

pub(crate) struct TextView {
    input: HtmlTextAreaElement,
    carets: HtmlElement,
    preview: HtmlElement,
    preview_url: String,
    composing: bool,
    /// The text and carets the caret layer shows.
    drawn: Option<(String, Vec<RemoteCaret>)>,
    preview_generation: u32,
    /// The text the preview shows, when known: the page's own rendering of the text area's
    /// text in the markup (`data-previewed`), then each preview fetched. A preview of the same
    /// text is not asked for again (opening the editor asks for none).
    previewed: Option<String>,
    /// The subject's JSON (from the preview's address), its topics' titles once fetched, and
    /// whether they are being fetched.
    subject_url: String,
    titles: Option<Vec<String>>,
    fetching_titles: bool,
    /// The `[[` being completed, the titles offered for it and which one is active, and the
    /// listbox that shows them (made when first needed).
    link: Option<Open>,
    offered: Vec<String>,
    active: usize,
    picker: Option<HtmlElement>,
}

/// Mounts a topic's text editor on `root` (`data-preview`, the preview endpoint; parts
/// `data-role` input, carets and preview, and those every editor has).
pub(crate) fn mount(root: HtmlElement) -> Result<EditorHandle, JsValue> {
    let view = TextView::find(&root)?;
    crate::link::mount(root, view)
}

impl TextView {
    fn find(root: &HtmlElement) -> Result<TextView, JsValue> {
        let input: HtmlTextAreaElement = part(root, "input")?;
        let previewed = (root.get_attribute("data-previewed").as_deref() == Some("true"))
            // The markup's text, not `value()`: a browser may restore a form field's old value.
            .then(|| input.default_value().ok())
            .flatten();
        Ok(TextView {
            carets: part(root, "carets")?,
            preview: part(root, "preview")?,
            input,
            subject_url: root
                .get_attribute("data-preview")
                .and_then(|p| p.split_once("/topics/").map(|(s, _)| s.to_owned()))
                .unwrap_or_default(),
            titles: None,
            fetching_titles: false,
            link: None,
            offered: Vec::new(),
            active: 0,
            picker: None,
            preview_url: root.get_attribute("data-preview").unwrap_or_default(),
            composing: false,
            drawn: None,
            preview_generation: 0,
            previewed,
        })
    }

    fn sync_scroll(&self) {
        self.carets.set_scroll_top(self.input.scroll_top());
    }

    /// Redraws the others' carets and selections in the layer over the text area: the same
    /// text, transparent, with marks at their offsets, so it wraps exactly like the text.
    ///
    /// Only the text up to the end of the line holding the last caret is laid out (what comes
    /// after cannot move a caret), and nothing is redrawn when that and the carets are as
    /// last drawn — so typing below everyone else's caret costs no layout of this layer.
    fn render_carets(&mut self, session: &Session) {
        let carets = session.carets();
        let full = self.input.value();
        let last = carets.iter().map(|c| c.anchor.max(c.head)).max();
        let text = match last {
            Some(last) => {
                let at = byte_index(&full, last);
                let line_end = full[at..].find('\n').map_or(full.len(), |i| at + i);
                full[..line_end].to_owned()
            }
            None => String::new(),
        };
        let key = (text, carets);
        if self.drawn.as_ref() == Some(&key) {
            return;
        }
        let layer = &self.carets;
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

    /// Asks the server for a preview of the text (unless the preview shows it already), and
    /// shows it if nothing newer was asked for meanwhile.
    fn fetch_preview(&self, session: &Session, shared: &Shared<TextView>, generation: u32) {
        if self.preview_url.is_empty() {
            return;
        }
        let source = session.text();
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
            with(&weak, |ed: &mut Editor<TextView>, _| {
                let view = &mut ed.view;
                if view.preview_generation == generation {
                    view.preview.set_inner_html(&html);
                    view.previewed = Some(source);
                }
            });
        });
    }
}

impl TextView {
    /// Offers the topics for the `[[` the caret is in (fetching the titles the first time),
    /// or closes the offer.
    fn offer_links(&mut self, shared: &Shared<TextView>) {
        let caret = self.input.selection_start().ok().flatten().unwrap_or(0);
        let open = (self.input.selection_end().ok().flatten() == Some(caret))
            .then(|| wikilinks::open_at(&self.input.value(), caret))
            .flatten();
        let Some(open) = open.filter(|_| !self.input.read_only()) else {
            self.close_links();
            return;
        };
        let Some(titles) = &self.titles else {
            self.fetch_titles(shared);
            return;
        };
        let offered: Vec<String> = wikilinks::matching(titles, &open.query)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if offered.is_empty() {
            self.close_links();
            return;
        }
        if offered != self.offered {
            self.active = 0;
        }
        self.offered = offered;
        self.link = Some(open);
        self.show_links();
    }

    fn fetch_titles(&mut self, shared: &Shared<TextView>) {
        if self.fetching_titles || self.subject_url.is_empty() {
            return;
        }
        self.fetching_titles = true;
        let url = self.subject_url.clone();
        let weak = Rc::downgrade(shared);
        wasm_bindgen_futures::spawn_local(async move {
            let titles = subject_titles(&url).await.unwrap_or_default();
            with(&weak, |ed: &mut Editor<TextView>, shared| {
                ed.view.titles = Some(titles);
                ed.view.fetching_titles = false;
                ed.view.offer_links(shared);
            });
        });
    }

    /// The listbox of offered titles under the text, the active one marked.
    fn show_links(&mut self) {
        let picker = match &self.picker {
            Some(picker) => picker.clone(),
            None => {
                let Ok(picker) = make_picker(&self.input) else {
                    return;
                };
                self.picker = Some(picker.clone());
                picker
            }
        };
        let id = picker.id();
        let options: Vec<String> = self
            .offered
            .iter()
            .enumerate()
            .map(|(i, title)| {
                format!(
                    r#"<li role="option" id="{id}-{i}" data-index="{i}" aria-selected="{}">{}</li>"#,
                    i == self.active,
                    arbor_map::draw::escape(title)
                )
            })
            .collect();
        picker.set_inner_html(&options.concat());
        picker.set_hidden(false);
        let _ = self.input.set_attribute("aria-expanded", "true");
        let _ = self
            .input
            .set_attribute("aria-activedescendant", &format!("{id}-{}", self.active));
    }

    fn close_links(&mut self) {
        self.link = None;
        self.offered.clear();
        if let Some(picker) = &self.picker {
            picker.set_hidden(true);
        }
        let _ = self.input.set_attribute("aria-expanded", "false");
        let _ = self.input.remove_attribute("aria-activedescendant");
    }
}

/// A listbox for offered titles, after the text's pane.
fn make_picker(input: &HtmlTextAreaElement) -> Result<HtmlElement, JsValue> {
    let picker: HtmlElement = document().create_element("ul")?.unchecked_into();
    let id = format!("links-{}", (js_sys::Math::random() * 1e9) as u32);
    picker.set_id(&id);
    picker.set_class_name("live-links");
    picker.set_attribute("role", "listbox")?;
    picker.set_attribute("aria-label", "Topics to link")?;
    picker.set_attribute("data-testid", "link-picker")?;
    picker.set_hidden(true);
    let pane = input
        .parent_element()
        .unwrap_or_else(|| input.clone().into());
    pane.insert_adjacent_element("afterend", &picker)?;
    input.set_attribute("aria-controls", &id)?;
    input.set_attribute("aria-autocomplete", "list")?;
    Ok(picker)
}

/// Writes the chosen title (offered number `index`) over what was typed after `[[`, closes
/// the link, and sends the change like any typing.
fn choose_link(ed: &mut Editor<TextView>, shared: &Shared<TextView>, index: usize) {
    let view = &mut ed.view;
    let (Some(open), Some(title)) = (view.link.clone(), view.offered.get(index).cloned()) else {
        return;
    };
    let caret = view
        .input
        .selection_start()
        .ok()
        .flatten()
        .unwrap_or(open.start);
    let value = view.input.value();
    let units: Vec<u16> = value.encode_utf16().collect();
    let after = String::from_utf16_lossy(&units[(caret as usize).min(units.len())..]);
    let (insert, skip) = wikilinks::completion(&title, &after);
    let _ = view
        .input
        .set_range_text_with_start_and_end(&insert, open.start, caret);
    let at = open.start + insert.encode_utf16().count() as u32 + skip;
    let _ = view.input.set_selection_range(at, at);
    view.close_links();
    typed(ed, shared);
}

/// The titles of every topic of the subject whose JSON is at `url`.
async fn subject_titles(url: &str) -> Result<Vec<String>, JsValue> {
    let response: Response = JsFuture::from(window().fetch_with_str(url))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from_str("the subject was refused"));
    }
    let json = JsFuture::from(response.json()?).await?;
    let mut titles = Vec::new();
    let mut stack = vec![js_sys::Reflect::get(&json, &"root".into())?];
    while let Some(node) = stack.pop() {
        if let Some(title) = js_sys::Reflect::get(&node, &"title".into())?.as_string() {
            titles.push(title);
        }
        let children: js_sys::Array = js_sys::Reflect::get(&node, &"children".into())?
            .dyn_into()
            .unwrap_or_default();
        for child in children.iter().rev() {
            stack.push(child);
        }
    }
    Ok(titles)
}

impl View for TextView {
    /// The selection, pinned to the document.
    type Pins = Option<[yrs::StickyIndex; 2]>;

    fn session(user: User, read_only: bool, clock: Clock) -> Session {
        Session::new(user, read_only, clock)
    }

    fn listen(shared: &Shared<TextView>) -> Result<(), JsValue> {
        let input: EventTarget = shared.borrow().view.input.clone().into();
        let input = &input;
        on(shared, input, "input", |ed, shared, _| {
            if ed.view.composing {
                return;
            }
            typed(ed, shared);
            ed.view.offer_links(shared);
        })?;
        on(shared, input, "compositionstart", |ed, _, _| {
            ed.view.composing = true;
        })?;
        on(shared, input, "compositionend", |ed, shared, _| {
            ed.view.composing = false;
            typed(ed, shared);
            ed.take_held(shared);
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
            // The offered titles' keys, while some are offered.
            let offered = ed.view.offered.len();
            if offered > 0 && !key.ctrl_key() && !key.meta_key() && !key.alt_key() {
                let view = &mut ed.view;
                match key.key().as_str() {
                    "ArrowDown" => view.active = (view.active + 1) % offered,
                    "ArrowUp" => view.active = (view.active + offered - 1) % offered,
                    "Enter" | "Tab" => {
                        e.prevent_default();
                        let active = view.active;
                        choose_link(ed, shared, active);
                        return;
                    }
                    "Escape" => view.close_links(),
                    _ => return,
                }
                e.prevent_default();
                e.stop_propagation();
                if !ed.view.offered.is_empty() {
                    ed.view.show_links();
                }
                return;
            }
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
            on(shared, input, event, |ed, _, _| {
                ed.link.caret_moved(ed.view.caret());
            })?;
        }
        on(shared, &document().into(), "selectionchange", |ed, _, _| {
            ed.link.caret_moved(ed.view.caret());
        })?;
        on(shared, input, "scroll", |ed, _, _| ed.view.sync_scroll())?;
        on(shared, input, "blur", |ed, _, _| ed.view.close_links())?;
        on(shared, &document().into(), "mousedown", |ed, shared, e| {
            // A click on an offered title (the text keeps its focus).
            let Some(option) = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest("[role=option]").ok().flatten())
            else {
                return;
            };
            let mine = ed
                .view
                .picker
                .as_ref()
                .is_some_and(|p| p.contains(Some(&option)));
            let index = option
                .get_attribute("data-index")
                .and_then(|i| i.parse().ok());
            if let (true, Some(index)) = (mine, index) {
                e.prevent_default();
                choose_link(ed, shared, index);
            }
        })?;
        Ok(())
    }

    fn pins(&self, session: &Session) -> Self::Pins {
        let start = self.input.selection_start().ok().flatten()?;
        let end = self.input.selection_end().ok().flatten()?;
        session.pin([start, end])
    }

    /// Puts the document's text in the text area with the smallest replacement (so the
    /// browser keeps its scroll position), then the caret where `pins` say.
    fn show(&mut self, session: &Session, pins: Self::Pins) {
        let input = &self.input;
        let shown = input.value();
        let text = session.text();
        if let Some(s) = splice(&shown, &text) {
            let _ =
                input.set_range_text_with_start_and_end(s.inserted, s.start, s.start + s.removed);
        }
        if let Some([a, b]) = pins.as_ref().and_then(|p| session.unpin(p)) {
            let _ = input.set_selection_range(a.min(b), a.max(b));
        }
    }

    fn redraw(&mut self, session: &Session) {
        self.render_carets(session);
    }

    fn set_editable(&mut self, editable: bool) {
        self.input.set_read_only(!editable);
    }

    /// A preview once the text has rested.
    fn changed(&mut self, shared: &Shared<TextView>) {
        self.preview_generation = self.preview_generation.wrapping_add(1);
        let generation = self.preview_generation;
        later(shared, PREVIEW_MS, move |ed, shared| {
            if ed.view.preview_generation == generation {
                ed.view.fetch_preview(&ed.link.session, shared, generation);
            }
        });
    }

    fn caret(&self) -> Option<(u32, u32)> {
        let input = &self.input;
        let (Ok(Some(start)), Ok(Some(end))) = (input.selection_start(), input.selection_end())
        else {
            return None;
        };
        let backward = input.selection_direction().ok().flatten().as_deref() == Some("backward");
        Some(if backward { (end, start) } else { (start, end) })
    }

    fn holds_frames(&self) -> bool {
        self.composing
    }
}

/// The text area changed by the person's hand.
fn typed(ed: &mut Editor<TextView>, shared: &Shared<TextView>) {
    let (link, view) = (&mut ed.link, &mut ed.view);
    let value = view.input.value();
    if !link.session.fits(&value) {
        // Refused here, where it is clear why, rather than by the server (which would
        // close the connection).
        let pins = view.pins(&link.session);
        view.show(&link.session, pins);
        link.notify(format!(
            "a topic holds at most {} KB of text",
            arbor_collab::Limits::default().max_text / 1000
        ));
        return;
    }
    let frames = link.session.edit(&value);
    link.send(&frames);
    if link.session.read_only() || !link.session.synced() {
        // Nothing typed here may stand: show the document again.
        view.show(&link.session, None);
    }
    link.caret_moved(view.caret());
    ed.changed(shared);
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
