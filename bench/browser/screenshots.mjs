// Screenshots of the reader's and the editor's map for docs/ui.md: the demo subject on its
// page (signed out) and in the map editor (as its copy, imported into a new account's
// subject), at 1440 × 900 and at a 390 × 844 touch viewport, light and dark.
//
//   node bench/browser/screenshots.mjs --server http://127.0.0.1:3300 [--out docs/ui]
//
// Needs a running release server started with `--seed-demo` and `ARBOR_SIGNUP_MAX_PER_CLIENT`
// raised (it signs up one account per run), and end2end/node_modules (scripts/setup.sh --test).
import { mkdirSync } from "node:fs";

import { arg, launch } from "./common.mjs";

const server = arg("server", "http://127.0.0.1:3300");
const out = arg("out", "docs/ui");
const subject = arg("subject", "distributed-systems");
const PASSWORD = "mossy granite lantern 42";
mkdirSync(out, { recursive: true });

const browser = await launch();

// An account with a copy of the demo subject, for the editor.
const setup = await browser.newContext({ baseURL: server });
const page = await setup.newPage();
await page.goto("/signup");
await page.getByLabel("Username").fill(`shots_${Date.now().toString(36)}`);
await page.getByLabel("Password").fill(PASSWORD);
await page.getByRole("button", { name: "Sign up" }).click();
await page.waitForURL((url) => url.pathname === "/");
const headers = { Origin: server };
const markdown = await (await page.request.get(`/api/v1/subjects/${subject}/export?format=markdown`)).text();
const created = await (
  await page.request.post("/api/v1/subjects", { data: { title: "Distributed systems (copy)" }, headers })
).json();
const imported = await page.request.post(`/api/v1/subjects/${created.slug}/imports`, {
  data: { filename: "demo.md", content: markdown },
  headers,
});
if (!imported.ok()) throw new Error(`import: ${imported.status()} ${await imported.text()}`);
const signedIn = await setup.storageState();
await setup.close();

const viewports = {
  desktop: { viewport: { width: 1440, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
};
for (const scheme of ["light", "dark"]) {
  for (const [device, options] of Object.entries(viewports)) {
    const reader = await browser.newContext({ ...options, colorScheme: scheme, baseURL: server });
    const r = await reader.newPage();
    await r.goto(`/s/${subject}`);
    await r.locator('body[data-hydrated="true"]').waitFor();
    await r.getByTestId("map").scrollIntoViewIfNeeded();
    await r.waitForTimeout(300);
    await r.screenshot({ path: `${out}/reader-${device}-${scheme}.png` });
    await reader.close();

    const editor = await browser.newContext({ ...options, colorScheme: scheme, baseURL: server, storageState: signedIn });
    const e = await editor.newPage();
    await e.goto(`/s/${created.slug}/edit`);
    await e.locator('[data-testid="map-editor"][data-link="online"]').waitFor();
    // A topic selected (on a phone the root, which the fitted view is around), its text open
    // in the drawer.
    const topic = e.getByTestId("map-canvas").locator("[data-topic]").nth(device === "phone" ? 0 : 2);
    if (device === "phone") await topic.tap();
    else await topic.click();
    // On a wide screen the drawer follows the selection by itself; on a phone it is asked for.
    await e.waitForTimeout(700);
    if ((await e.getByTestId("text-toggle").getAttribute("aria-pressed")) !== "true") {
      await e.getByTestId("text-toggle").click();
    }
    await e.locator('[data-testid="panel-editor"][data-link="online"]').waitFor();
    await e.waitForTimeout(300);
    await e.screenshot({ path: `${out}/editor-${device}-${scheme}.png` });
    await editor.close();
    console.log(`${scheme} ${device}: done`);
  }
}
await browser.close();
