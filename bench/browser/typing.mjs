// Typing in the live editor on a 50 KB topic, in headless Chromium, with a second person in
// the document (their caret is drawn over the text): how long the page spends on each
// keystroke. Prints figures; asserts nothing.
//
//   node bench/browser/typing.mjs --server http://127.0.0.1:3300 [--keys 300] [--kb 50]
//
// Needs a running release server with the editor module built (scripts/build-editor.sh, then
// `cargo leptos build --release`) and end2end/node_modules (scripts/setup.sh --test).
import { arg, launch, report } from "./common.mjs";

const server = arg("server", "http://127.0.0.1:3300");
const keys = Number(arg("keys", "300"));
const kb = Number(arg("kb", "50"));

const browser = await launch();

async function person(name) {
  const context = await browser.newContext({ baseURL: server });
  const page = await context.newPage();
  const headers = { origin: server };
  const signup = await page.request.post("/api/v1/auth/signup", {
    data: { username: name, password: "mossy granite lantern 42" },
    headers,
  });
  if (!signup.ok()) throw new Error(`sign up: ${signup.status()} ${await signup.text()}`);
  return { page, headers };
}

const tag = Date.now().toString(36);
const writer = await person(`typist_${tag}`);
const other = await person(`watcher_${tag}`);

// A subject whose root topic holds `kb` KB of markdown: paragraphs, lists and code.
const created = await (
  await writer.page.request.post("/api/v1/subjects", { data: { title: `Typing ${tag}` }, headers: writer.headers })
).json();
const slug = created.slug;
const id = (await (await writer.page.request.get(`/api/v1/subjects/${slug}`)).json()).root.id;
await writer.page.request.put(`/api/v1/subjects/${slug}/members/watcher_${tag}`, {
  data: { role: "editor" },
  headers: writer.headers,
});
const block = [
  "## A section about caches\n\n",
  "Caches keep hot data close to where it is used; eviction decides what goes. ".repeat(4),
  "\n\n- least recently used\n- least frequently used\n- time to live\n\n",
  "```rust\nfn get(&self, key: &str) -> Option<&Value> { self.map.get(key) }\n```\n\n",
].join("");
let body = "";
while (body.length < kb * 1000) body += block;
body = body.slice(0, kb * 1000);
const patched = await writer.page.request.patch(`/api/v1/subjects/${slug}/topics/${id}`, {
  data: { body },
  headers: writer.headers,
});
if (!patched.ok()) throw new Error(`body: ${patched.status()} ${await patched.text()}`);

const path = `/s/${slug}/t/${id}/edit`;
for (const p of [writer, other]) {
  await p.page.goto(path);
  await p.page.locator('[data-testid="live-editor"][data-link="online"]').waitFor();
  await p.page.getByTestId("live-input").and(p.page.locator(":not([readonly])")).waitFor();
}
// The other person's caret sits in the middle of the text.
await other.page.getByTestId("live-input").evaluate((el) => {
  el.focus();
  el.setSelectionRange(el.value.length / 2, el.value.length / 2);
  el.dispatchEvent(new Event("select"));
});
await writer.page.getByTestId("remote-caret").waitFor();

// Around every input event: a capturing listener on the document runs before the editor's,
// a bubbling one after it; the next animation frame marks when the change is on screen.
await writer.page.evaluate(() => {
  window.__timings = [];
  let start = 0;
  document.addEventListener("input", () => (start = performance.now()), true);
  document.addEventListener("input", () => {
    const handled = performance.now();
    requestAnimationFrame(() => {
      window.__timings.push({ handler: handled - start, frame: performance.now() - start });
    });
  });
});
const input = writer.page.getByTestId("live-input");
await input.click();
await input.evaluate((el) => el.setSelectionRange(el.value.length / 4, el.value.length / 4));
const started = Date.now();
await input.pressSequentially("The quick brown fox jumps over the lazy dog. ".repeat(Math.ceil(keys / 45)).slice(0, keys));
const elapsed = Date.now() - started;
await writer.page.waitForTimeout(500);
const timings = await writer.page.evaluate(() => window.__timings);
await other.page.waitForFunction(
  (n) => document.querySelector('[data-testid="live-input"]').value.length >= n,
  body.length + keys,
);

console.log(`${timings.length} keystrokes into a ${(body.length / 1000).toFixed(0)} KB topic (${elapsed} ms of typing), one other editor present`);
report("editor input handler", timings.map((t) => t.handler));
report("input to next frame", timings.map((t) => t.frame));
await browser.close();
