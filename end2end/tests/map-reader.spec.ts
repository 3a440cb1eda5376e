import { expect, test, type Browser, type Page } from "@playwright/test";
import { api, newAuthor, openHydrated, watchConsole } from "./helpers";

// The reader's map on a subject's page, signed out, on a 60-topic map: it fills its frame,
// fits with readable labels, zooms, pans, goes full screen, and folds on the drawing.

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};

/** A public subject with 6 main topics of 3 subtopics of 2 (6 + 18 + 36 = 60 topics). */
async function sixtyTopics(browser: Browser): Promise<string> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await newAuthor(page, "bigmap");
  const subject = await api(page, "POST", "/api/v1/subjects", {
    title: "Sixty topics",
    visibility: "public",
  });
  const slug = subject.slug as string;
  const root = (await api(page, "GET", `/api/v1/subjects/${slug}`)).root.id;
  const add = async (title: string, parent_id: number) =>
    (await api(page, "POST", `/api/v1/subjects/${slug}/topics`, { title, parent_id })).id as number;
  for (let a = 1; a <= 6; a++) {
    const main = await add(`Branch ${a}`, root);
    for (let b = 1; b <= 3; b++) {
      const sub = await add(`Topic ${a}.${b}`, main);
      for (let c = 1; c <= 2; c++) await add(`Detail ${a}.${b}.${c} with a longer title`, sub);
    }
  }
  await context.close();
  return slug;
}

/** The view: the drawing's viewBox and the zoom the frame reports. */
async function view(page: Page) {
  const frame = page.getByTestId("map");
  const box = ((await frame.locator("svg").getAttribute("viewBox")) ?? "0 0 0 0").split(" ").map(Number);
  return { x: box[0], y: box[1], width: box[2], zoom: Number(await frame.getAttribute("data-zoom")) };
}

/** The smallest label on screen, in CSS pixels. */
async function smallestLabel(page: Page): Promise<number> {
  return page
    .getByTestId("map")
    .locator("svg text")
    .evaluateAll((texts) => Math.min(...texts.map((t) => t.getBoundingClientRect().height)));
}

let slug: string;
test.beforeAll(async ({ browser }) => {
  slug = await sixtyTopics(browser);
});

test("desktop: fit keeps labels readable; zoom, pan, full screen, fold on the node", async ({ page }) => {
  const problems = watchConsole(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await openHydrated(page, `/s/${slug}`);
  const frame = page.getByTestId("map");
  await expect(frame).toHaveAttribute("data-live", "");
  // The frame is a view: as wide as the page's column, most of the window high.
  const size = await frame.boundingBox();
  expect(size!.height).toBeGreaterThan(500);
  // Fit: 13 px labels are never drawn under 11 px, so a 60-topic map does not shrink to a
  // smear; what does not fit is around the root.
  const fitted = await view(page);
  expect(fitted.zoom).toBeGreaterThanOrEqual(11 / 13 - 1e-3);
  expect(await smallestLabel(page)).toBeGreaterThanOrEqual(10.5);
  await expect(frame.locator(".map-root")).toBeInViewport();

  // Zoom in and out with the buttons; out further than fit on request.
  await page.getByTestId("map-zoom-in").click();
  await expect.poll(async () => (await view(page)).zoom).toBeCloseTo(fitted.zoom * 1.25, 2);
  for (let i = 0; i < 3; i++) await page.getByTestId("map-zoom-out").click();
  await expect.poll(async () => (await view(page)).zoom).toBeLessThan(fitted.zoom);
  // Ctrl+wheel zooms about the pointer; a plain wheel scrolls the page, not the map.
  const before = await view(page);
  const box = (await frame.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.down("Control");
  await page.mouse.wheel(0, -200);
  await page.keyboard.up("Control");
  await expect.poll(async () => (await view(page)).zoom).toBeGreaterThan(before.zoom);
  // Dragging pans, and a drag that starts on a topic does not open it.
  const zoomed = await view(page);
  const topic = frame.locator(".map-node", { hasText: "Branch 1" });
  const at = (await topic.boundingBox())!;
  await page.mouse.move(at.x + 10, at.y + 10);
  await page.mouse.down();
  await page.mouse.move(at.x + 110, at.y + 10, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => (await view(page)).x).toBeCloseTo(zoomed.x - 100 / zoomed.zoom, 0);
  await expect(page).toHaveURL(new RegExp(`/s/${slug}$`));
  // Fit brings the whole view back; the keyboard zooms the focused frame too.
  await page.getByTestId("map-fit").click();
  await expect.poll(async () => (await view(page)).zoom).toBeCloseTo(fitted.zoom, 3);
  await frame.focus();
  await page.keyboard.press("+");
  await expect.poll(async () => (await view(page)).zoom).toBeCloseTo(fitted.zoom * 1.25, 2);
  await page.keyboard.press("0");
  await expect.poll(async () => (await view(page)).zoom).toBeCloseTo(fitted.zoom, 3);

  // Fold on the node: the drawing, the outline and the address follow; a reload keeps it.
  const toggle = frame.locator('.map-fold[data-folded="false"]').first();
  const id = await toggle.getAttribute("data-fold");
  await toggle.click();
  await expect(frame.locator(`.map-fold[data-fold="${id}"]`)).toHaveAttribute("data-folded", "true");
  const item = page.getByTestId("outline").locator(`[data-item="${id}"]`);
  await expect(item).toHaveAttribute("aria-expanded", "false");
  await expect(page).toHaveURL(new RegExp(`fold=${id}`));
  await expect(frame.locator("svg text", { hasText: "(+" })).toHaveCount(1);
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(frame.locator(`.map-fold[data-fold="${id}"]`)).toHaveAttribute("data-folded", "true");
  await frame.locator(`.map-fold[data-fold="${id}"]`).click();
  await expect(item).toHaveAttribute("aria-expanded", "true");
  await expect(frame.locator("svg text", { hasText: "(+" })).toHaveCount(0);

  // Full screen: the map takes the screen, fitted again, and comes back.
  await page.getByTestId("map-fullscreen").click();
  await expect(page.getByTestId("map-fullscreen")).toHaveAttribute("aria-pressed", "true");
  await expect.poll(async () => (await frame.boundingBox())!.height).toBeGreaterThan(850);
  await page.getByTestId("map-fullscreen").click();
  await expect(page.getByTestId("map-fullscreen")).toHaveAttribute("aria-pressed", "false");

  // A click on a topic still opens it.
  await frame.locator(".map-node", { hasText: "Branch 2" }).click();
  await expect(page).toHaveURL(/\/t\//);
  expect(problems).toEqual([]);
});

test("phone: the map fills the width; one finger pans, two pinch, a tap folds", async ({ browser }) => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  const problems = watchConsole(page);
  await openHydrated(page, `/s/${slug}`);
  const frame = page.getByTestId("map");
  await expect(frame).toHaveAttribute("data-live", "");
  const box = (await frame.boundingBox())!;
  expect(box.width).toBeGreaterThan(340);
  expect(await smallestLabel(page)).toBeGreaterThanOrEqual(10.5);
  // Touch pointers, as a phone sends them (CDP touch events).
  const cdp = await context.newCDPSession(page);
  const touch = (type: string, points: { x: number; y: number }[]) =>
    cdp.send("Input.dispatchTouchEvent", {
      type,
      touchPoints: points.map((p, id) => ({ x: p.x, y: p.y, id })),
    });
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const start = await view(page);
  await touch("touchStart", [{ x: cx, y: cy }]);
  for (let i = 1; i <= 5; i++) await touch("touchMove", [{ x: cx - 12 * i, y: cy }]);
  await touch("touchEnd", []);
  await expect.poll(async () => (await view(page)).x).toBeGreaterThan(start.x + 40 / start.zoom);
  await expect(page).toHaveURL(new RegExp(`/s/${slug}$`));
  const panned = await view(page);
  await touch("touchStart", [{ x: cx - 40, y: cy }, { x: cx + 40, y: cy }]);
  for (let i = 1; i <= 5; i++) await touch("touchMove", [{ x: cx - 40 - 8 * i, y: cy }, { x: cx + 40 + 8 * i, y: cy }]);
  await touch("touchEnd", []);
  await expect.poll(async () => (await view(page)).zoom).toBeGreaterThan(panned.zoom * 1.5);
  await page.getByTestId("map-fit").tap();
  // Zoomed out past fit (on request), so that toggles are in view, away from the buttons.
  await page.getByTestId("map-zoom-out").tap();
  await page.getByTestId("map-zoom-out").tap();
  const id = await frame.evaluate((f) => {
    const r = f.getBoundingClientRect();
    const shown = [...f.querySelectorAll('.map-fold[data-folded="false"]')].find((t) => {
      const b = t.getBoundingClientRect();
      return b.left > r.left + 10 && b.right < r.right - 10 && b.top > r.top + 60 && b.bottom < r.bottom - 10;
    });
    return shown?.getAttribute("data-fold");
  });
  expect(id).toBeTruthy();
  await frame.locator(`.map-fold[data-fold="${id}"]`).tap();
  await expect(frame.locator(`.map-fold[data-fold="${id}"]`)).toHaveAttribute("data-folded", "true");
  expect(problems).toEqual([]);
  await context.close();
});
