import { expect, test, type Page } from "@playwright/test";
import { PASSWORD, uniqueName, watchConsole } from "./helpers";

/** The page is styled (our stylesheet applied, not the browser's defaults) and hydrated. */
async function expectWorking(page: Page, what: string) {
  await expect(page.locator("body"), `${what}: hydrated`).toHaveAttribute("data-hydrated", "true");
  const look = await page.evaluate(() => ({
    font: getComputedStyle(document.body).fontFamily,
    sheets: document.styleSheets.length,
    logo: document.querySelector("header a")?.getBoundingClientRect().height ?? 0,
  }));
  expect(look.sheets, `${what}: stylesheet`).toBeGreaterThan(0);
  expect(look.font, `${what}: our fonts, not the default serif`).not.toMatch(/Times/);
  expect(look.logo, `${what}: the header is not blown up`).toBeLessThan(120);
}

// Reloading a page makes Chromium revalidate it (If-None-Match); a 304 whose headers contradict
// the stored page (a policy with another nonce) used to leave it unstyled and dead.
test("every public page survives a reload, signed out and signed in, and a search run twice", async ({
  browser,
  playwright,
  baseURL,
}) => {
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL ?? "" } });
  const name = uniqueName("reload");
  expect((await api.post("/api/v1/auth/signup", { data: { username: name, password: PASSWORD } })).status()).toBe(201);
  const tag = `rl${Date.now().toString(36)}`;
  const created = await api.post("/api/v1/subjects", {
    data: { title: `Reloading ${name}`, visibility: "public", tags: [tag] },
  });
  const slug = (await created.json()).slug as string;
  const root = (await (await api.get(`/api/v1/subjects/${slug}`)).json()).root.id as number;
  const topic = await api.post(`/api/v1/subjects/${slug}/topics`, {
    data: { title: "Caches", body: "A page served twice is *still* a page.", parent_id: root },
  });
  expect(topic.status()).toBe(201);
  const topicId = (await topic.json()).id as number;
  const cookies = (await api.storageState()).cookies;
  await api.dispose();

  const pages = ["/", "/explore", `/explore?q=tag%3A${tag}`, `/s/${slug}`, `/s/${slug}/t/${topicId}`, `/u/${name}`];
  for (const signedIn of [false, true]) {
    const context = await browser.newContext();
    if (signedIn) await context.addCookies(cookies);
    const page = await context.newPage();
    const problems = watchConsole(page);
    for (const path of [...pages, "/login"].filter((p) => !(signedIn && p === "/login"))) {
      const who = `${signedIn ? "signed in" : "signed out"} ${path}`;
      await page.goto(path);
      await expectWorking(page, who);
      // Twice: the second reload of a cached subject page is served from the server's cache.
      for (const round of [1, 2]) {
        await page.reload();
        await expectWorking(page, `${who} reload ${round}`);
      }
    }
    // A search run twice from the form: the second is a revalidation of the first.
    for (const round of [1, 2]) {
      await page.goto("/explore");
      await expectWorking(page, `explore before search ${round}`);
      await page.getByTestId("search-input").fill(`tag:${tag}`);
      await page.getByTestId("search-input").press("Enter");
      await expect(page).toHaveURL(new RegExp(`q=tag%3A${tag}`));
      await expect(page.getByRole("link", { name: `Reloading ${name}` }).first()).toBeVisible();
      await expectWorking(page, `search ${round}`);
    }
    expect(problems, `${signedIn ? "signed in" : "signed out"}: console`).toEqual([]);
    await context.close();
  }
});
