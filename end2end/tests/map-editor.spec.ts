import { expect, test, type Page } from "@playwright/test";
import { openHydrated, signUp, uniqueName, watchConsole } from "./helpers";

type Node = { id: number; title: string; children: Node[] };

/** The tree the API serves (the rows follow the live map within a couple of seconds). */
async function shape(page: Page, slug: string): Promise<unknown> {
  const r = await page.request.get(`/api/v1/subjects/${slug}`);
  const walk = (n: Node): unknown => [n.title, n.children.map(walk)];
  return walk((await r.json()).root);
}

/** A JSON API call from the page's session (state-changing calls show our origin). */
async function api(page: Page, method: string, path: string, data?: unknown) {
  const origin = new URL(page.url()).origin;
  const r = await page.request.fetch(path, { method, data, headers: { Origin: origin } });
  expect(r.ok(), `${method} ${path}: ${await r.text()}`).toBe(true);
  return r.status() === 204 ? null : r.json();
}

async function newAuthor(page: Page, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await openHydrated(page, "/signup");
  await signUp(page, name);
  await expect(page).toHaveURL("/");
  return name;
}

async function openMap(page: Page, slug: string) {
  await openHydrated(page, `/s/${slug}/edit`);
  const editor = page.getByTestId("map-editor");
  await expect(editor).toHaveAttribute("data-link", "online");
  await expect(editor).toHaveAttribute("data-mode", "edit");
  await page.getByTestId("map-canvas").focus();
}

/** Names the topic just created (its name field is open) and goes back to the map. */
async function name(page: Page, title: string) {
  const field = page.getByTestId("map-rename");
  await expect(field).toBeFocused();
  await page.keyboard.type(title);
  await page.keyboard.press("Enter");
  await expect(field).toBeHidden();
  await expect(page.getByTestId("map-canvas")).toBeFocused();
}

/** The topics the map shows, in drawing order. */
async function drawn(page: Page): Promise<string[]> {
  return page.getByTestId("map-canvas").locator("[data-topic] text").allTextContents();
}

test("an author builds a 12-topic, 3-level map with the keyboard only", async ({ page }) => {
  const problems = watchConsole(page);
  await newAuthor(page, "keys");
  const subject = await api(page, "POST", "/api/v1/subjects", { title: "Keyboard map" });
  const slug = subject.slug as string;
  await openMap(page, slug);

  // Tab: a subtopic of the selection (the root at first); Enter: the next sibling;
  // ArrowLeft: up to the parent.
  const keys = page.keyboard;
  await keys.press("Tab");
  await name(page, "Alpha");
  await keys.press("Tab");
  await name(page, "A1");
  await keys.press("Enter");
  await name(page, "A2");
  await keys.press("Enter");
  await name(page, "A3");
  await keys.press("ArrowLeft");
  await keys.press("Enter");
  await name(page, "Beta");
  await keys.press("Tab");
  await name(page, "B1");
  await keys.press("Enter");
  await name(page, "B2");
  await keys.press("Enter");
  await name(page, "B3");
  await keys.press("ArrowLeft");
  await keys.press("Enter");
  await name(page, "Gamma");
  await keys.press("Tab");
  await name(page, "G1");
  await keys.press("Enter");
  await name(page, "G2");

  expect(await drawn(page)).toEqual([
    "Keyboard map", "Alpha", "A1", "A2", "A3", "Beta", "B1", "B2", "B3", "Gamma", "G1", "G2",
  ]);
  // F2 renames, Delete sends to the trash, Ctrl+Z brings it back.
  await keys.press("ArrowUp");
  await keys.press("F2");
  await expect(page.getByTestId("map-rename")).toHaveValue("G1");
  await keys.press("Escape");
  await expect(page.getByTestId("map-canvas")).toBeFocused();
  await keys.press("Delete");
  await expect.poll(() => drawn(page)).not.toContain("G1");
  await keys.press("Control+z");
  await expect.poll(() => drawn(page)).toContain("G1");
  // The rows (pages, search) follow the live map.
  await expect
    .poll(() => shape(page, slug), { timeout: 10_000 })
    .toEqual([
      "Keyboard map",
      [
        ["Alpha", [["A1", []], ["A2", []], ["A3", []]]],
        ["Beta", [["B1", []], ["B2", []], ["B3", []]]],
        ["Gamma", [["G1", []], ["G2", []]]],
      ],
    ]);
  await expect(page.getByTestId("map-editor")).toHaveAttribute("data-saved", "true");
  expect(problems).toEqual([]);
});

test("two people restructure one map at once; each undoes only their own change; a drag reparents", async ({
  browser,
}) => {
  const owner = await (await browser.newContext()).newPage();
  const other = await (await browser.newContext()).newPage();
  const problems = [...[owner, other].map(watchConsole)];
  await newAuthor(owner, "mapowner");
  const otherName = await newAuthor(other, "mapeditor");
  const subject = await api(owner, "POST", "/api/v1/subjects", { title: "Shared map" });
  const slug = subject.slug as string;
  await api(owner, "PUT", `/api/v1/subjects/${slug}/members/${otherName}`, { role: "editor" });
  const root = (await (await owner.request.get(`/api/v1/subjects/${slug}`)).json()).root.id;
  for (const title of ["One", "Two", "Three"]) {
    await api(owner, "POST", `/api/v1/subjects/${slug}/topics`, { title, parent_id: root });
  }
  await openMap(owner, slug);
  await openMap(other, slug);
  const topic = (page: Page, title: string) =>
    page.getByTestId("map-canvas").locator("[data-topic]", { hasText: title });

  // At once: the owner drags One onto Two; the editor renames Three and adds a subtopic.
  await topic(owner, "One").dragTo(topic(owner, "Two"));
  await topic(other, "Three").click();
  await other.keyboard.press("F2");
  await other.keyboard.press("End");
  await other.keyboard.type(" (renamed)");
  await other.keyboard.press("Enter");
  await expect(other.getByTestId("map-canvas")).toBeFocused();
  await other.keyboard.press("Tab");
  await name(other, "Three's child");

  const merged = ["Shared map", [["Two", [["One", []]]], ["Three (renamed)", [["Three's child", []]]]]];
  await expect.poll(() => shape(owner, slug), { timeout: 10_000 }).toEqual(merged);
  await expect.poll(() => drawn(owner)).toEqual(await drawn(other));
  expect(await drawn(owner)).toEqual(["Shared map", "Two", "One", "Three (renamed)", "Three's child"]);
  // Each sees where the other is.
  await expect(topic(owner, "Three's child")).toHaveAttribute("data-selected-by", /mapeditor/);

  // The owner's undo takes back the owner's move only.
  await owner.getByTestId("map-canvas").focus();
  await owner.keyboard.press("Control+z");
  await expect
    .poll(() => shape(other, slug), { timeout: 10_000 })
    .toEqual(["Shared map", [["One", []], ["Two", []], ["Three (renamed)", [["Three's child", []]]]]]);
  await expect.poll(() => drawn(other)).toEqual(await drawn(owner));
  for (const page of [owner, other]) {
    await expect(page.getByTestId("map-editor")).toHaveAttribute("data-saved", "true");
  }

  // The selected topic's body opens beside the map, live for both.
  for (const page of [owner, other]) {
    await topic(page, "Two").click();
    await expect(page.getByTestId("panel-title")).toHaveText("Two");
    await expect(page.getByTestId("panel-editor")).toHaveAttribute("data-link", "online");
  }
  await owner.getByTestId("panel-input").fill("Written beside the map.");
  await expect(other.getByTestId("panel-input")).toHaveValue("Written beside the map.");
  await expect(owner.getByTestId("panel-editor")).toHaveAttribute("data-saved", "true");
  expect(problems.flat()).toEqual([]);
});
