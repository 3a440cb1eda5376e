import { expect, test, type Page } from "@playwright/test";
import { api, name, newAuthor, openHydrated, openMap, watchConsole } from "./helpers";

type Node = { id: number; title: string; children: Node[] };

/** The tree the API serves (the rows follow the live map within a couple of seconds). */
async function shape(page: Page, slug: string): Promise<unknown> {
  const r = await page.request.get(`/api/v1/subjects/${slug}`);
  const walk = (n: Node): unknown => [n.title, n.children.map(walk)];
  return walk((await r.json()).root);
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
  // an arrow towards the root: up to the parent.
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
  // ← goes to the parent, as in any tree view (Beta's branch is drawn left of the root, but
  // the keys follow the tree, not the drawing).
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
  await expect(page.getByTestId("map-canvas")).toHaveAttribute("aria-activedescendant", /^map-item-/);
  await expect(page.getByRole("treeitem", { name: "G1", exact: true })).toHaveAttribute("aria-selected", "true");
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

/** The part of the map the canvas shows (its SVG's viewBox) and the zoom. */
async function view(page: Page) {
  const canvas = page.getByTestId("map-canvas");
  const box = (await canvas.locator("svg").getAttribute("viewBox"))!.split(" ").map(Number);
  return { x: box[0], y: box[1], width: box[2], zoom: Number(await canvas.getAttribute("data-zoom")) };
}

test("drags reorder between siblings with a drop line; the view pans, zooms and fits; folds are kept; a viewer follows", async ({
  page,
  browser,
}) => {
  const problems = watchConsole(page);
  await newAuthor(page, "mapview");
  const subject = await api(page, "POST", "/api/v1/subjects", { title: "Four ways" });
  const slug = subject.slug as string;
  const root = (await (await page.request.get(`/api/v1/subjects/${slug}`)).json()).root.id;
  const ids: Record<string, number> = {};
  for (const title of ["North", "East", "South", "West"]) {
    ids[title] = (await api(page, "POST", `/api/v1/subjects/${slug}/topics`, { title, parent_id: root })).id;
  }
  for (const title of ["Pole", "Star", "Magnet"]) {
    await api(page, "POST", `/api/v1/subjects/${slug}/topics`, { title, parent_id: ids.North });
  }
  await openMap(page, slug);
  const canvas = page.getByTestId("map-canvas");
  const topic = (title: string) => canvas.locator("[data-topic]", { hasText: title });
  const box = async (title: string) => (await topic(title).boundingBox())!;

  // Branches on both sides of the root: North (three rows, half of six) alone on the right.
  const rootBox = await box("Four ways");
  for (const title of ["East", "South", "West"]) {
    expect((await box(title)).x + (await box(title)).width).toBeLessThan(rootBox.x);
  }
  expect((await box("North")).x).toBeGreaterThan(rootBox.x + rootBox.width);

  // Drag West to the top edge of East: a line shows it goes before; dropping puts it there.
  const from = await box("West");
  const east = await box("East");
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(east.x + east.width / 2, east.y + 3, { steps: 6 });
  await expect(canvas.locator(".map-drop-line")).toHaveAttribute("data-place", "before");
  await expect(canvas.locator(".map-drop")).toHaveCount(0);
  await page.mouse.up();
  await expect(canvas.locator(".map-drop-line")).toHaveCount(0);
  const north = [["Pole", []], ["Star", []], ["Magnet", []]];
  const order = ["Four ways", [["North", north], ["West", []], ["East", []], ["South", []]]];
  await expect.poll(() => shape(page, slug), { timeout: 10_000 }).toEqual(order);

  // And North to the bottom edge of South: after it (from the right side to the left).
  const northBox = await box("North");
  const south = await box("South");
  await page.mouse.move(northBox.x + northBox.width / 2, northBox.y + northBox.height / 2);
  await page.mouse.down();
  await page.mouse.move(south.x + south.width / 2, south.y + south.height - 3, { steps: 6 });
  await expect(canvas.locator(".map-drop-line")).toHaveAttribute("data-place", "after");
  await page.mouse.up();
  await expect
    .poll(() => shape(page, slug), { timeout: 10_000 })
    .toEqual(["Four ways", [["West", []], ["East", []], ["South", []], ["North", north]]]);

  // Zoom: the buttons step it, Fit brings the whole map back at its natural size (it fits).
  const fitted = await view(page);
  expect(fitted.zoom).toBe(1);
  await page.getByTestId("map-zoom-in").click();
  await expect.poll(async () => (await view(page)).zoom).toBeCloseTo(1.25, 3);
  expect((await view(page)).width).toBeCloseTo(fitted.width / 1.25, 0);
  await page.getByTestId("map-zoom-out").click();
  await page.getByTestId("map-zoom-out").click();
  await expect.poll(async () => (await view(page)).zoom).toBeCloseTo(0.8, 3);
  // The wheel pans; Ctrl+wheel zooms about the pointer; dragging the background pans.
  const c = (await canvas.boundingBox())!;
  await page.mouse.move(c.x + c.width / 2, c.y + c.height / 2);
  const before = await view(page);
  await page.mouse.wheel(0, 80);
  await expect.poll(async () => (await view(page)).y).toBeCloseTo(before.y + 80 / 0.8, 0);
  await page.keyboard.down("Control");
  await page.mouse.wheel(0, -100);
  await page.keyboard.up("Control");
  await expect.poll(async () => (await view(page)).zoom).toBeGreaterThan(0.8);
  const zoomed = await view(page);
  await page.mouse.move(c.x + 8, c.y + 8);
  await page.mouse.down();
  await page.mouse.move(c.x + 108, c.y + 8, { steps: 4 });
  await page.mouse.up();
  await expect.poll(async () => (await view(page)).x).toBeCloseTo(zoomed.x - 100 / zoomed.zoom, 0);
  await page.getByTestId("map-fit").click();
  await expect.poll(() => view(page)).toEqual(fitted);
  // Two fingers moving apart zoom in (touch pointers, as a phone sends them).
  await canvas.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const [x, y] = [r.left + r.width / 2, r.top + r.height / 2];
    const touch = (type: string, pointerId: number, clientX: number) =>
      el.dispatchEvent(new PointerEvent(type, { pointerId, pointerType: "touch", clientX, clientY: y, bubbles: true, isPrimary: pointerId === 11 }));
    touch("pointerdown", 11, x - 50);
    touch("pointerdown", 12, x + 50);
    touch("pointermove", 12, x + 150);
    touch("pointerup", 12, x + 150);
    touch("pointerup", 11, x - 50);
  });
  await expect.poll(async () => (await view(page)).zoom).toBeCloseTo(2, 3);
  await page.getByTestId("map-fit").click();
  await expect.poll(() => view(page)).toEqual(fitted);

  // Space folds North; the fold is this person's and survives a reload.
  await topic("North").click();
  await canvas.focus();
  await page.keyboard.press(" ");
  await expect(topic("North")).toContainText("(+3)");
  await expect(topic("Pole")).toHaveCount(0);
  await openMap(page, slug);
  await expect(topic("North")).toContainText("(+3)");
  await expect(topic("Pole")).toHaveCount(0);
  await topic("North").click();
  await canvas.focus();
  await page.keyboard.press(" ");
  await expect(topic("Pole")).toHaveCount(1);

  // A viewer follows the map live but cannot change it: keys and drags do nothing.
  const viewer = await (await browser.newContext()).newPage();
  problems.push(...watchConsole(viewer));
  const viewerName = await newAuthor(viewer, "mapviewer");
  await api(page, "PUT", `/api/v1/subjects/${slug}/members/${viewerName}`, { role: "viewer" });
  await openHydrated(viewer, `/s/${slug}/edit`);
  const seen = viewer.getByTestId("map-editor");
  await expect(seen).toHaveAttribute("data-link", "online");
  await expect(seen).toHaveAttribute("data-mode", "view");
  const theirs = viewer.getByTestId("map-canvas");
  await theirs.locator("[data-topic]", { hasText: "East" }).click();
  await viewer.keyboard.press("Tab");
  await viewer.keyboard.press("Delete");
  await expect(viewer.getByTestId("map-rename")).toBeHidden();
  const west = (await theirs.locator("[data-topic]", { hasText: "West" }).boundingBox())!;
  const southSeen = (await theirs.locator("[data-topic]", { hasText: "South" }).boundingBox())!;
  await viewer.mouse.move(west.x + west.width / 2, west.y + west.height / 2);
  await viewer.mouse.down();
  await viewer.mouse.move(southSeen.x + southSeen.width / 2, southSeen.y + southSeen.height / 2, { steps: 5 });
  await expect(theirs.locator(".map-drop")).toHaveCount(0);
  await viewer.mouse.up();
  // The author's rename reaches the viewer; the tree is as the author left it.
  await topic("East").dblclick();
  await page.keyboard.press("End");
  await page.keyboard.type(" wind");
  await page.keyboard.press("Enter");
  await expect(theirs.locator("[data-topic]", { hasText: "East wind" })).toHaveCount(1);
  await expect
    .poll(() => shape(page, slug), { timeout: 10_000 })
    .toEqual(["Four ways", [["West", []], ["East wind", []], ["South", []], ["North", north]]]);
  expect(problems).toEqual([]);
});
