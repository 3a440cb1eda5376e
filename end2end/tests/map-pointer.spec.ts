import { expect, test, type Browser, type Page } from "@playwright/test";
import { api, newAuthor, openHydrated, watchConsole } from "./helpers";

// The map editor by pointer: the "+" beside the selection, the topic's menu (right click, long
// press), renaming on the topic itself, dragging; with a mouse at 1440×900 and by touch alone
// on a 390×844 phone; and the notice when someone else deletes what you are looking at.

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};

type Node = { title: string; children: Node[] };

/** The tree the API serves (the rows follow the live map within a couple of seconds). */
async function shape(page: Page, slug: string): Promise<unknown> {
  const r = await page.request.get(`/api/v1/subjects/${slug}`);
  const walk = (n: Node): unknown => [n.title, n.children.map(walk)];
  return walk((await r.json()).root);
}

const canvas = (page: Page) => page.getByTestId("map-canvas");
const topic = (page: Page, title: string) =>
  canvas(page).locator("[data-topic]", { hasText: new RegExp(`^${title}$`) });

/** Opens the map editor, ready to edit. */
async function openEditor(page: Page, slug: string) {
  await openHydrated(page, `/s/${slug}/edit`);
  await expect(page.getByTestId("map-editor")).toHaveAttribute("data-link", "online");
  await expect(page.getByTestId("map-editor")).toHaveAttribute("data-mode", "edit");
}

/** Names the topic whose name field is open, on the topic itself. */
async function typeName(page: Page, title: string) {
  const field = page.getByTestId("map-rename");
  await expect(field).toBeFocused();
  await page.keyboard.type(title);
  await page.keyboard.press("Enter");
  await expect(field).toBeHidden();
  await expect(topic(page, title)).toHaveCount(1);
}

const TWELVE = [
  "Pointer map",
  [
    ["Alpha", [["A1", []], ["A2", []], ["A3", []]]],
    ["Beta", [["B1", []], ["B2", []], ["B3", []]]],
    ["Gamma", [["G1", []], ["G2", []]]],
  ],
];

/** Builds TWELVE with `press` (a click or a tap) on topics and on the "+" beside them. */
async function buildTwelve(page: Page, press: (target: ReturnType<Page["locator"]>) => Promise<void>) {
  const add = async (command: "add-child" | "add-after", title: string) => {
    await press(canvas(page).getByTestId(command));
    await typeName(page, title);
  };
  for (const [branch, leaves] of [
    ["Alpha", ["A1", "A2", "A3"]],
    ["Beta", ["B1", "B2", "B3"]],
    ["Gamma", ["G1", "G2"]],
  ] as const) {
    // Back to the whole map (around its root on a phone), then the root.
    await press(page.getByTestId("map-fit"));
    await press(topic(page, "Pointer map"));
    await add("add-child", branch);
    await add("add-child", leaves[0]);
    for (const leaf of leaves.slice(1)) await add("add-after", leaf);
  }
}

test("a mouse builds a 12-topic map with the +, renames on the topic, and uses the topic's menu", async ({
  page,
}) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await newAuthor(page, "mouse");
  const slug = (await api(page, "POST", "/api/v1/subjects", { title: "Pointer map" })).slug as string;
  await openEditor(page, slug);
  // The canvas takes the width of the window, not a column of it.
  expect((await canvas(page).boundingBox())!.width).toBeGreaterThan(1300);

  await buildTwelve(page, (target) => target.click());
  await expect.poll(() => shape(page, slug), { timeout: 10_000 }).toEqual(TWELVE);

  // Fit keeps labels readable on the whole map.
  await page.getByTestId("map-fit").click();
  expect(Number(await canvas(page).getAttribute("data-zoom"))).toBeGreaterThanOrEqual(11 / 13 - 1e-3);

  // A double click renames on the topic: the field lies over it.
  await topic(page, "B2").dblclick();
  const field = page.getByTestId("map-rename");
  await expect(field).toBeFocused();
  const over = (await field.boundingBox())!;
  const on = (await topic(page, "B2").boundingBox())!;
  expect(Math.abs(over.y + over.height / 2 - (on.y + on.height / 2))).toBeLessThan(6);
  expect(over.x).toBeLessThan(on.x + on.width);
  expect(over.x + over.width).toBeGreaterThan(on.x);
  await page.keyboard.press("Control+a");
  await page.keyboard.type("B two");
  await page.keyboard.press("Enter");
  await expect(topic(page, "B two")).toHaveCount(1);

  // The menu: a right click on a topic; items that do not apply are disabled.
  const menu = page.getByTestId("map-menu");
  await topic(page, "A1").click({ button: "right" });
  await expect(menu).toBeVisible();
  await expect(menu.getByRole("menuitem", { name: /Move up/ })).toHaveAttribute("aria-disabled", "true");
  await expect(menu.getByRole("menuitem").first()).toBeFocused();
  // Escape closes it and gives focus back to the map.
  await page.keyboard.press("Escape");
  await expect(menu).toBeHidden();
  await expect(canvas(page)).toBeFocused();
  await topic(page, "A1").click({ button: "right" });
  await menu.getByRole("menuitem", { name: /Move down/ }).click();
  await expect(menu).toBeHidden();
  await topic(page, "A1").click({ button: "right" });
  await menu.getByRole("menuitem", { name: /Move into the topic before/ }).click();
  await expect
    .poll(() => shape(page, slug), { timeout: 10_000 })
    .toEqual([
      "Pointer map",
      [
        ["Alpha", [["A2", [["A1", []]]], ["A3", []]]],
        ["Beta", [["B1", []], ["B two", []], ["B3", []]]],
        ["Gamma", [["G1", []], ["G2", []]]],
      ],
    ]);
  // By keyboard: Shift+F10 opens it on the selection, ↓ moves, Enter chooses.
  await topic(page, "G2").click();
  await canvas(page).focus();
  await page.keyboard.press("Shift+F10");
  await expect(menu).toBeVisible();
  await page.keyboard.press("End");
  await expect(menu.getByRole("menuitem", { name: /Delete/ })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(topic(page, "G2")).toHaveCount(0);
  // A click elsewhere closes it without doing anything.
  await topic(page, "G1").click({ button: "right" });
  await expect(menu).toBeVisible();
  await page.getByRole("heading", { name: /Map of/ }).click();
  await expect(menu).toBeHidden();
  await expect(topic(page, "G1")).toHaveCount(1);

  // The text opens in a drawer over the map (the canvas keeps its size) and closes.
  const width = (await canvas(page).boundingBox())!.width;
  await topic(page, "G1").click({ button: "right" });
  await menu.getByRole("menuitem", { name: /Edit the text/ }).click();
  await expect(page.getByTestId("topic-panel")).toBeVisible();
  await expect(page.getByTestId("panel-title")).toHaveText("G1");
  await expect(page.getByTestId("panel-input")).toBeFocused();
  expect((await canvas(page).boundingBox())!.width).toBe(width);
  // The drawer's heading follows a rename.
  await topic(page, "G1").dblclick();
  await page.keyboard.press("Control+a");
  await page.keyboard.type("G one");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("panel-title")).toHaveText("G one");
  await page.getByTestId("panel-close").click();
  await expect(page.getByTestId("topic-panel")).toBeHidden();
  await expect(page.getByTestId("text-toggle")).toHaveAttribute("aria-pressed", "false");
  // Closed, it stays closed as the selection moves.
  await topic(page, "Gamma").click();
  await page.waitForTimeout(800);
  await expect(page.getByTestId("topic-panel")).toBeHidden();
  expect(problems).toEqual([]);
});

test("touch alone builds a map: tap, the +, a long press for the menu, a drag to move", async ({ browser }) => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const problems = watchConsole(page);
  await newAuthor(page, "touch");
  const slug = (await api(page, "POST", "/api/v1/subjects", { title: "Pointer map" })).slug as string;
  await openEditor(page, slug);
  // The drawer starts closed on a phone, so the map has the screen.
  await expect(page.getByTestId("topic-panel")).toBeHidden();

  await buildTwelve(page, (target) => target.tap());
  await expect.poll(() => shape(page, slug), { timeout: 10_000 }).toEqual(TWELVE);

  // A long press opens the topic's menu (touch pointers held still, as a finger sends them).
  const cdp = await context.newCDPSession(page);
  const hold = async (title: string) => {
    const box = (await topic(page, title).boundingBox())!;
    const point = { x: box.x + box.width / 2, y: box.y + box.height / 2, id: 0 };
    await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [point] });
    await page.waitForTimeout(800);
    await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  };
  const menu = page.getByTestId("map-menu");
  await page.getByTestId("map-fit").tap();
  await hold("Beta");
  await expect(menu).toBeVisible();
  await menu.getByRole("menuitem", { name: /Rename/ }).tap();
  await expect(page.getByTestId("map-rename")).toBeFocused();
  await page.keyboard.press("Control+a");
  await page.keyboard.type("Beta two");
  await page.keyboard.press("Enter");
  await expect(topic(page, "Beta two")).toHaveCount(1);
  await page.getByTestId("map-fit").tap();
  await hold("Alpha");
  await expect(menu).toBeVisible();
  await menu.getByRole("menuitem", { name: /Move down/ }).tap();
  await expect(menu).toBeHidden();

  // A finger dragging Gamma onto Beta two makes it Beta two's last subtopic.
  await page.getByTestId("map-fit").tap();
  const from = (await topic(page, "Gamma").boundingBox())!;
  const to = (await topic(page, "Beta two").boundingBox())!;
  const steps = 8;
  await cdp.send("Input.dispatchTouchEvent", {
    type: "touchStart",
    touchPoints: [{ x: from.x + from.width / 2, y: from.y + from.height / 2, id: 0 }],
  });
  for (let i = 1; i <= steps; i++) {
    const x = from.x + from.width / 2 + ((to.x + to.width / 2 - (from.x + from.width / 2)) * i) / steps;
    const y = from.y + from.height / 2 + ((to.y + to.height / 2 - (from.y + from.height / 2)) * i) / steps;
    await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: [{ x, y, id: 0 }] });
  }
  await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
  await expect
    .poll(() => shape(page, slug), { timeout: 10_000 })
    .toEqual([
      "Pointer map",
      [
        ["Beta two", [["B1", []], ["B2", []], ["B3", []], ["Gamma", [["G1", []], ["G2", []]]]]],
        ["Alpha", [["A1", []], ["A2", []], ["A3", []]]],
      ],
    ]);
  expect(problems).toEqual([]);
  await context.close();
});

/** An owner and an editor on one map with a branch Doomed › Kept. */
async function twoEditors(browser: Browser) {
  const owner = await (await browser.newContext()).newPage();
  const other = await (await browser.newContext()).newPage();
  await newAuthor(owner, "notice");
  const otherName = await newAuthor(other, "noticed");
  const slug = (await api(owner, "POST", "/api/v1/subjects", { title: "Shared notice" })).slug as string;
  await api(owner, "PUT", `/api/v1/subjects/${slug}/members/${otherName}`, { role: "editor" });
  const root = (await api(owner, "GET", `/api/v1/subjects/${slug}`)).root.id;
  const doomed = (await api(owner, "POST", `/api/v1/subjects/${slug}/topics`, { title: "Doomed", parent_id: root })).id;
  await api(owner, "POST", `/api/v1/subjects/${slug}/topics`, { title: "Kept", parent_id: doomed });
  await openEditor(owner, slug);
  await openEditor(other, slug);
  return { owner, other, slug };
}

test("when someone deletes the topic you are on, you are told, and Restore brings it back for both", async ({
  browser,
}) => {
  const { owner, other, slug } = await twoEditors(browser);
  const problems = [owner, other].map(watchConsole);
  // The editor is on Kept; the owner deletes its parent.
  await topic(other, "Kept").click();
  await topic(owner, "Doomed").click();
  await canvas(owner).focus();
  await owner.keyboard.press("Delete");
  await expect(topic(owner, "Doomed")).toHaveCount(0);
  const notice = other.getByTestId("map-notice");
  await expect(notice).toBeVisible();
  await expect(notice).toContainText("“Kept” was deleted with “Doomed”");
  await expect(other.getByTestId("map-announce")).toContainText("“Kept” was deleted with “Doomed”");
  // The one who deleted it is not told.
  await expect(owner.getByTestId("map-notice")).toBeHidden();
  await other.getByTestId("notice-restore").click();
  await expect(notice).toBeHidden();
  for (const page of [owner, other]) {
    await expect(topic(page, "Doomed")).toHaveCount(1);
    await expect(topic(page, "Kept")).toHaveCount(1);
  }
  await expect(other.getByTestId("map-editor")).toHaveAttribute("data-selected", /\d+/);
  await expect
    .poll(() => shape(owner, slug), { timeout: 10_000 })
    .toEqual(["Shared notice", [["Doomed", [["Kept", []]]]]]);

  // A subtopic added just as its parent goes: told too.
  await topic(other, "Kept").click();
  await other.getByTestId("add-child").click();
  await typeName(other, "Late");
  await topic(owner, "Kept").click();
  await canvas(owner).focus();
  await owner.keyboard.press("Delete");
  await expect(other.getByTestId("map-notice")).toContainText("“Late”");
  await other.getByTestId("notice-restore").click();
  await expect(topic(owner, "Late")).toHaveCount(1);
  expect(problems.flat()).toEqual([]);
});
