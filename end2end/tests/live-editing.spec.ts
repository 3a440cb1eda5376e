import { expect, test, type Browser, type Page, type WebSocketRoute } from "@playwright/test";
import { openHydrated, signUp, uniqueName, watchConsole } from "./helpers";

/** A signed-up person in a browser context of their own. */
async function newPerson(browser: Browser, prefix: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchConsole(page);
  const name = uniqueName(prefix);
  await openHydrated(page, "/signup");
  await signUp(page, name);
  await expect(page).toHaveURL("/");
  return { context, page, name, problems };
}

/** The JSON API with this page's session (and its Origin, as a browser would send). */
async function api(page: Page, method: string, path: string, data?: unknown) {
  const origin = new URL(page.url()).origin;
  const response = await page.request.fetch(`/api/v1${path}`, { method, data, headers: { origin } });
  expect(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`).toBeTruthy();
  return response.status() === 204 ? null : response.json();
}

/** A subject owned by `owner` with `editor` and `viewer` as collaborators: its root topic's edit page. */
async function sharedTopic(owner: Page, editor: string, viewer?: string): Promise<{ slug: string; id: number }> {
  const created = await api(owner, "POST", "/subjects", { title: `Live notes ${Date.now().toString(36)}` });
  const slug: string = created.slug;
  await api(owner, "PUT", `/subjects/${slug}/members/${editor}`, { role: "editor" });
  if (viewer) await api(owner, "PUT", `/subjects/${slug}/members/${viewer}`, { role: "viewer" });
  const detail = await api(owner, "GET", `/subjects/${slug}`);
  return { slug, id: detail.root.id };
}

async function openEditor(page: Page, path: string) {
  await openHydrated(page, path);
  const editor = page.getByTestId("live-editor");
  await expect(editor).toHaveAttribute("data-link", "online");
  await expect(page.getByTestId("live-status")).toContainText("Live");
  return editor;
}

test("two people edit a topic at once and see each other's text and carets; a viewer follows read-only; undo is your own; reload shows the merged text", async ({
  browser,
}) => {
  const ada = await newPerson(browser, "ada");
  const bob = await newPerson(browser, "bob");
  const val = await newPerson(browser, "val");
  const { slug, id } = await sharedTopic(ada.page, bob.name, val.name);
  const path = `/s/${slug}/t/${id}/edit`;

  await openEditor(ada.page, path);
  await openEditor(bob.page, path);
  const valEditor = await openEditor(val.page, path);
  const adaInput = ada.page.getByTestId("live-input");
  const bobInput = bob.page.getByTestId("live-input");
  const valInput = val.page.getByTestId("live-input");
  await expect(adaInput).toBeEditable();
  await expect(valEditor).toHaveAttribute("data-mode", "view");

  // Ada types; Bob and the viewer see it within a second.
  await adaInput.click();
  await adaInput.press("Control+End");
  await adaInput.pressSequentially("# Caching\n\nAda: keep hot data close. ");
  const adaText = "# Caching\n\nAda: keep hot data close. ";
  await expect(bobInput).toHaveValue(new RegExp(`^${escape(adaText)}`), { timeout: 1_000 });
  await expect(valInput).toHaveValue(new RegExp(`^${escape(adaText)}`), { timeout: 1_000 });

  // Both type at the same time, at different places, non-ASCII included.
  await bobInput.click();
  await bobInput.press("Control+Home");
  await Promise.all([
    adaInput.pressSequentially("Evict the cold. 😀"),
    bobInput.pressSequentially("Bob était là — 日本語\n"),
  ]);
  const merged = "Bob était là — 日本語\n# Caching\n\nAda: keep hot data close. Evict the cold. 😀";
  await expect(adaInput).toHaveValue(merged, { timeout: 1_000 });
  await expect(bobInput).toHaveValue(merged, { timeout: 1_000 });
  await expect(valInput).toHaveValue(merged, { timeout: 1_000 });

  // Each sees the other's caret, named, and who is here.
  await expect(ada.page.getByTestId("remote-caret").filter({ hasText: bob.name })).toBeVisible({ timeout: 1_000 });
  await expect(bob.page.getByTestId("remote-caret").filter({ hasText: ada.name })).toBeVisible({ timeout: 1_000 });
  await expect(ada.page.getByTestId("person")).toHaveCount(3);
  await expect(val.page.getByTestId("people")).toContainText(ada.name);

  // The viewer cannot type.
  await expect(valInput).not.toBeEditable();
  await valInput.click();
  await valInput.press("X");
  await expect(valInput).toHaveValue(merged);

  // The preview renders the markdown.
  await expect(ada.page.getByTestId("live-preview").getByRole("heading", { name: "Caching" })).toBeVisible();

  // Saved: the server confirmed what was typed.
  await expect(ada.page.getByTestId("live-editor")).toHaveAttribute("data-saved", "true");
  await expect(ada.page.getByTestId("live-status")).toHaveText("Live · all changes saved");

  // Undo takes back Ada's own last words, never Bob's.
  await ada.page.waitForTimeout(600); // a new undo step (changes within 0.5 s merge into one)
  await adaInput.pressSequentially(" Oops");
  await expect(bobInput).toHaveValue(`${merged} Oops`, { timeout: 1_000 });
  await adaInput.press("Control+z");
  await expect(adaInput).toHaveValue(merged);
  await expect(bobInput).toHaveValue(merged, { timeout: 1_000 });
  await adaInput.press("Control+Shift+z");
  await expect(bobInput).toHaveValue(`${merged} Oops`, { timeout: 1_000 });

  // A reload shows the merged text, from the server.
  await expect(ada.page.getByTestId("live-editor")).toHaveAttribute("data-saved", "true");
  await bob.page.reload();
  await expect(bob.page.getByTestId("live-editor")).toHaveAttribute("data-link", "online");
  await expect(bobInput).toHaveValue(`${merged} Oops`);

  // The reading page catches up once the snapshot is refreshed (2 s after the last change),
  // and never downloads the editor module.
  const editorFetches: string[] = [];
  val.page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/editor/")) editorFetches.push(request.url());
  });
  await expect
    .poll(
      async () => {
        await val.page.goto(`/s/${slug}/t/${id}`);
        return val.page.getByTestId("topic-body").textContent();
      },
      { timeout: 20_000, intervals: [1_000] },
    )
    .toContain("Evict the cold. 😀 Oops");
  await expect(val.page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(val.page.getByTestId("topic-body").getByRole("heading", { name: "Caching" })).toBeVisible();
  expect(editorFetches).toEqual([]);

  for (const person of [ada, bob, val]) expect(person.problems).toEqual([]);
});

test("a viewer made an editor while following is told at once, and edits after a reload", async ({ browser }) => {
  const ada = await newPerson(browser, "ada");
  const val = await newPerson(browser, "val");
  const { slug, id } = await sharedTopic(ada.page, val.name);
  await api(ada.page, "PUT", `/subjects/${slug}/members/${val.name}`, { role: "viewer" });
  const path = `/s/${slug}/t/${id}/edit`;

  const valEditor = await openEditor(val.page, path);
  await expect(valEditor).toHaveAttribute("data-mode", "view");
  await api(ada.page, "PUT", `/subjects/${slug}/members/${val.name}`, { role: "editor" });
  await expect(val.page.getByTestId("live-status")).toContainText("you may edit now: reload the page");
  await expect(valEditor).toHaveAttribute("data-link", "online");

  await val.page.reload();
  await expect(valEditor).toHaveAttribute("data-mode", "edit");
  await expect(valEditor).toHaveAttribute("data-link", "online");
  const valInput = val.page.getByTestId("live-input");
  await valInput.click();
  await valInput.pressSequentially("promoted");
  await expect(valEditor).toHaveAttribute("data-saved", "true");

  for (const person of [ada, val]) expect(person.problems).toEqual([]);
});

test("edits made offline are kept and merged when the connection returns", async ({ browser }) => {
  const ada = await newPerson(browser, "ada");
  const bob = await newPerson(browser, "bob");
  const { slug, id } = await sharedTopic(ada.page, bob.name);
  const path = `/s/${slug}/t/${id}/edit`;

  // Ada's websocket goes through a switch the test controls.
  let offline = false;
  const open: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
  await ada.page.routeWebSocket(/\/collab\//, (ws) => {
    if (offline) {
      ws.close();
      return;
    }
    open.push({ page: ws, server: ws.connectToServer() });
  });

  const adaEditor = await openEditor(ada.page, path);
  await openEditor(bob.page, path);
  const adaInput = ada.page.getByTestId("live-input");
  const bobInput = bob.page.getByTestId("live-input");
  await adaInput.click();
  await adaInput.pressSequentially("shared\n");
  await expect(bobInput).toHaveValue("shared\n");

  offline = true;
  for (const ws of open.splice(0)) {
    // The page's end first: closing the server's end first leaves a moment in which the page
    // still sees an open socket and its frames go to Playwright's closing proxy, which logs
    // "WebSocket is already in CLOSING or CLOSED state." (a harness artefact, seen 1 run in 10).
    await ws.page.close();
    await ws.server.close();
  }
  await expect(adaEditor).toHaveAttribute("data-link", "offline");
  // A screen reader is told once, politely (the status line itself is not a live region).
  const told = ada.page.getByTestId("live-announce");
  await expect(told).toHaveText(/^Offline\. Reconnecting; your changes are kept in this browser/);

  await adaInput.press("Control+End");
  await adaInput.pressSequentially("written offline ✈\n");
  await bobInput.click();
  await bobInput.press("Control+Home");
  await bobInput.pressSequentially("written online\n");
  await expect(adaEditor).toHaveAttribute("data-saved", "false");
  await expect(ada.page.getByTestId("live-status")).toContainText("unsaved change");
  await expect(bobInput).toHaveValue("written online\nshared\n");

  // Ada's page is loaded again while still offline: what she typed was kept in the browser.
  await ada.page.reload();
  await expect(adaEditor).toHaveAttribute("data-link", "offline");
  await expect(ada.page.getByTestId("live-status")).toContainText("1 unsaved change");

  offline = false;
  await ada.page.evaluate(() => window.dispatchEvent(new Event("online")));
  const merged = "written online\nshared\nwritten offline ✈\n";
  await expect(adaInput).toHaveValue(merged, { timeout: 5_000 });
  await expect(bobInput).toHaveValue(merged);
  await expect(adaEditor).toHaveAttribute("data-saved", "true");
  await expect(told).toHaveText(/^(Back online\. )?All changes saved\.$/);

  for (const person of [ada, bob]) expect(person.problems).toEqual([]);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
