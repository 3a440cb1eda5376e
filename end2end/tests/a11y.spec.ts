import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { PASSWORD, api, signUp, uniqueName } from "./helpers";

// Every route, signed out and signed in, light and dark, on a desktop and on a touch phone,
// checked by axe-core against WCAG 2.0, 2.1 and 2.2 A and AA with no rule turned off: zero
// violations. (bench/browser/axe.mjs prints the same check as figures.)
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
const DEVICES = {
  desktop: { viewport: { width: 1440, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
} as const;

async function violations(page: Page, what: string) {
  await expect(page.locator("body"), `${what}: hydrated`).toHaveAttribute("data-hydrated", "true");
  const { violations } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  return violations.flatMap((v) => v.nodes.map((n) => `${what}: ${v.id} at ${n.target.join(" ")}: ${v.help}`));
}

/** An account with a subject of its own and a topic in it; its cookies and paths. */
async function author(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/signup");
  const username = uniqueName("axe");
  await signUp(page, username, PASSWORD);
  await expect(page).toHaveURL("/");
  await page.goto("/new");
  await page.getByLabel("Title").fill("Accessible notes");
  await page.getByTestId("create-subject").click();
  await expect(page).toHaveURL(/\/s\/accessible-notes/);
  const slug = new URL(page.url()).pathname.split("/")[2];
  const detail = await (await page.request.get(`/api/v1/subjects/${slug}`)).json();
  // Three levels, so the map's tree has groups, folds and positions to check.
  const add = async (title: string, parent_id: number) =>
    (await api(page, "POST", `/api/v1/subjects/${slug}/topics`, { title, parent_id })).id as number;
  const basics = await add("Basics", detail.root.id);
  await add("Contrast", basics);
  await add("Keyboard", detail.root.id);
  const state = await context.storageState();
  await context.close();
  return { state, slug, username, root: detail.root.id as number };
}

for (const scheme of ["light", "dark"] as const) {
  for (const [device, options] of Object.entries(DEVICES)) {
    test(`every page has no WCAG 2.2 AA violation: ${scheme}, ${device}`, async ({ browser }) => {
      const own = await author(browser);
      const found: string[] = [];

      const out = await browser.newContext({ ...options, colorScheme: scheme });
      const reader = await out.newPage();
      for (const path of [
        "/",
        "/explore",
        "/explore?q=notes",
        "/login",
        "/signup",
        `/u/${own.username}`,
        `/s/${own.slug}`,
        `/s/${own.slug}/t/${own.root}`,
        "/no/such/page",
      ]) {
        await reader.goto(path);
        found.push(...(await violations(reader, `signed out ${path}`)));
      }
      await out.close();

      const inside = await browser.newContext({ ...options, colorScheme: scheme, storageState: own.state });
      const page = await inside.newPage();
      for (const path of [
        "/",
        "/saved",
        "/new",
        "/settings",
        `/s/${own.slug}`,
        `/s/${own.slug}/settings`,
        `/s/${own.slug}/edit`,
        `/s/${own.slug}/t/${own.root}`,
        `/s/${own.slug}/t/${own.root}/edit`,
      ]) {
        await page.goto(path);
        found.push(...(await violations(page, `signed in ${path}`)));
      }
      // With the user menu open.
      await page.goto("/");
      await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
      await page.getByTestId("header-username").click();
      await expect(page.getByTestId("sign-out")).toBeVisible();
      found.push(...(await violations(page, "signed in / with the user menu open")));
      await inside.close();

      expect(found, found.join("\n")).toEqual([]);
    });
  }
}

// WCAG 1.4.10: at 320 CSS px wide (a 1280 px window at 400 % zoom) nothing needs scrolling
// sideways but the map's own drawing, which scrolls inside its frame.
test("the reading and editing pages reflow at 320 px without horizontal scrolling", async ({ browser }) => {
  const own = await author(browser);
  const context = await browser.newContext({ viewport: { width: 320, height: 640 }, storageState: own.state });
  const page = await context.newPage();
  const wide: string[] = [];
  for (const path of [
    "/",
    "/explore",
    "/login",
    `/s/${own.slug}`,
    `/s/${own.slug}/settings`,
    `/s/${own.slug}/edit`,
    `/s/${own.slug}/t/${own.root}`,
    `/s/${own.slug}/t/${own.root}/edit`,
  ]) {
    await page.goto(path);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 320) wide.push(`${path} is ${width} px wide`);
  }
  await context.close();
  expect(wide, wide.join("\n")).toEqual([]);
});

test("the first Tab reaches a skip link that moves focus past the header to the page", async ({ page }) => {
  await page.goto("/explore");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press("Enter");
  await expect(page.locator("main#main")).toBeFocused();
  // The next Tab goes to the page's first control, not back to the header.
  await page.keyboard.press("Tab");
  const inHeader = await page.evaluate(() => !!document.activeElement?.closest("header"));
  expect(inHeader).toBe(false);
});
