//! The only components whose code reaches the browser (Leptos islands). Everything else on a
//! page is rendered on the server and works without JavaScript: forms post to server
//! functions, links load pages. An island here adds behaviour to server-rendered HTML and
//! takes no props (it finds what it works on from its place in the page), so the WebAssembly
//! every page downloads stays small; the live editors are a module of their own
//! (`editor/`), imported only by the pages that edit.
#![allow(unsafe_code)] // `#[island]` expands to a `#[wasm_bindgen]` export.

use leptos::prelude::*;

/// Starts the live editor on the closest `[data-live-root]` (a topic's text, or a map with
/// `data-kind="map"`), importing the module its `data-module` names.
#[island]
pub fn StartEditor() -> impl IntoView {
    marker(Job::StartEditor)
}

/// Keeps what was typed into the closest form across a failed submission: the form posts
/// without script (its server function redirects back with the error), so on submit its
/// fields (never passwords, files or hidden ones) are kept in the tab's session storage, and
/// put back when the page comes back with that form's error (into fields not already typed
/// into while the page was loading); otherwise they are forgotten.
#[island]
pub fn KeepDraft() -> impl IntoView {
    marker(Job::KeepDraft)
}

/// Makes the closest `<details>` behave as a menu by keyboard and pointer: Escape closes it and
/// gives focus back to its `<summary>`, and a click outside closes it. Without JavaScript it is
/// a plain disclosure, opened and closed by its summary.
#[island]
pub fn MenuKeys() -> impl IntoView {
    marker(Job::MenuKeys)
}

/// The map of the closest `[data-map-reader]` (see `map_reader.rs`): its drawing panned,
/// zoomed, fitted, shown full screen and folded on its toggles; its outline, a WAI-ARIA tree
/// view, one tab stop that the arrow keys, Home, End and letters move through; a fold in
/// either shown in both. Without JavaScript the drawing is a picture at its natural size and
/// every topic a link in the tab order.
#[island]
pub fn MapReader() -> impl IntoView {
    marker(Job::MapReader)
}

/// Lets the closest form take a file for its `content` and `filename` fields: chosen with its
/// `[data-role=picker]` file input (shown only with JavaScript) or dropped anywhere on the
/// form, read in the browser (at most 2 MB, as text) into the fields, which the form posts as
/// if pasted. Without JavaScript the text is pasted.
#[island]
pub fn ImportPicker() -> impl IntoView {
    marker(Job::ImportPicker)
}

/// What an island does to the page around it.
#[derive(Clone, Copy)]
enum Job {
    StartEditor,
    KeepDraft,
    MenuKeys,
    MapReader,
    ImportPicker,
}

/// A hidden marker that does `job`, from its place in the page, once hydrated.
fn marker(job: Job) -> impl IntoView {
    let marker = NodeRef::<leptos::html::Span>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(span) = marker.get() {
            match job {
                Job::StartEditor => js::start_editor(&span),
                Job::KeepDraft => js::keep_draft(&span),
                Job::MenuKeys => js::menu_keys(&span),
                Job::MapReader => super::map_reader::attach(&span),
                Job::ImportPicker => js::import_picker(&span),
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = job;
    view! { <span node_ref=marker hidden=true></span> }
}

#[cfg(feature = "hydrate")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = "
export function startEditor(marker) {
  const root = marker.closest('[data-live-root]');
  if (!root) return;
  import(root.dataset.module)
    .then(async (m) => {
      await m.default();
      const handle = m.mount(root);
      addEventListener('pagehide', (e) => { if (!e.persisted) handle.destroy(); });
    })
    .catch((e) => { root.setAttribute('data-link', 'failed'); console.error('live editor:', e); });
}
const kept = (el) => el.name && !['password', 'hidden', 'file', 'submit', 'button'].includes(el.type);
const slot = (el) => (el.type === 'checkbox' || el.type === 'radio') ? el.name + '=' + el.value : el.name;
export function keepDraft(marker) {
  const form = marker.closest('form');
  if (!form) return;
  const action = new URL(form.action, location.href).pathname;
  const key = 'arbor-draft:' + action;
  const query = new URLSearchParams(location.search);
  let draft = null;
  try { draft = JSON.parse(sessionStorage.getItem(key)); sessionStorage.removeItem(key); } catch (_) {}
  if (draft && query.has('__err') && query.get('__path') === action) {
    for (const el of form.elements) {
      if (!kept(el) || !(slot(el) in draft)) continue;
      // A field already changed (typed into before this ran) keeps what was typed.
      if (el.type === 'checkbox' || el.type === 'radio') {
        if (el.checked === el.defaultChecked) el.checked = draft[slot(el)];
      } else if (el.value === el.defaultValue) el.value = draft[slot(el)];
    }
  }
  form.addEventListener('submit', () => {
    const values = {};
    for (const el of form.elements) {
      if (kept(el)) values[slot(el)] = (el.type === 'checkbox' || el.type === 'radio') ? el.checked : el.value;
    }
    try { sessionStorage.setItem(key, JSON.stringify(values)); } catch (_) {}
  });
}
export function importPicker(marker) {
  const form = marker.closest('form');
  const picker = form && form.querySelector('[data-role=picker]');
  if (!picker) return;
  const input = picker.querySelector('input[type=file]');
  const said = picker.querySelector('[data-role=picker-error]');
  picker.hidden = false;
  const take = (file) => {
    if (!file) return;
    said.textContent = '';
    if (file.size > 2 * 1024 * 1024) {
      said.textContent = file.name + ' is ' + (file.size / 1048576).toFixed(1) + ' MB; an import is at most 2 MB.';
      return;
    }
    file.text().then((text) => {
      form.elements.content.value = text;
      form.elements.filename.value = file.name;
    }, () => { said.textContent = file.name + ' could not be read.'; });
  };
  input.addEventListener('change', () => take(input.files[0]));
  form.addEventListener('dragover', (e) => { e.preventDefault(); form.classList.add('ring-2'); });
  form.addEventListener('dragleave', () => form.classList.remove('ring-2'));
  form.addEventListener('drop', (e) => {
    e.preventDefault();
    form.classList.remove('ring-2');
    take(e.dataTransfer.files[0]);
  });
}
export function menuKeys(marker) {
  const menu = marker.closest('details');
  const summary = menu && menu.querySelector('summary');
  if (!summary) return;
  menu.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !menu.open) return;
    menu.open = false;
    summary.focus();
    e.stopPropagation();
  });
  document.addEventListener('click', (e) => {
    if (menu.open && !menu.contains(e.target)) menu.open = false;
  });
}")]
    extern "C" {
        #[wasm_bindgen(js_name = startEditor)]
        pub fn start_editor(marker: &JsValue);
        #[wasm_bindgen(js_name = keepDraft)]
        pub fn keep_draft(marker: &JsValue);
        #[wasm_bindgen(js_name = importPicker)]
        pub fn import_picker(marker: &JsValue);
        #[wasm_bindgen(js_name = menuKeys)]
        pub fn menu_keys(marker: &JsValue);
    }
}
