// Accessibility violations per page, as axe-core (WCAG 2.0/2.1/2.2 A and AA rules) finds them
// in headless Chromium: every route signed out and signed in, light and dark, at 1440 × 900 and
// at a 390 × 844 touch viewport. Prints the count per rule and the pages with the most, so a
// change to the styles or the markup can be measured before and after (docs/accessibility.md).
//
//   node bench/browser/axe.mjs --server http://127.0.0.1:3300 [--subject distributed-systems] [--show RULE]
//
// `--show RULE` also prints, for each page view that breaks RULE, the elements and why.
//
// Needs a running release server started with `--seed-demo` (the subject read signed out) and
// `ARBOR_SIGNUP_MAX_PER_CLIENT` raised (it signs up one account per run), and end2end/node_modules
// (scripts/setup.sh --test).
import { createRequire } from "node:module";

import { arg, launch } from "./common.mjs";

const require = createRequire(new URL("../../end2end/package.json", import.meta.url));
const { default: AxeBuilder } = require("@axe-core/playwright");

const server = arg("server", "http://127.0.0.1:3300");
const subject = arg("subject", "distributed-systems");
const show = arg("show", null);
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
const PASSWORD = "mossy granite lantern 42";

const browser = await launch();

// One account with a subject of its own, for the signed-in routes.
const username = `axe_${Date.now().toString(36)}`;
const setup = await browser.newContext({ baseURL: server });
const page = await setup.newPage();
await page.goto("/signup");
await page.getByLabel("Username").fill(username);
await page.getByLabel("Password").fill(PASSWORD);
await page.getByRole("button", { name: "Sign up" }).click();
await page.waitForURL((url) => url.pathname === "/");
await page.goto("/new");
await page.getByLabel("Title").fill("Axe notes");
await page.getByTestId("create-subject").click();
await page.waitForURL(/\/s\/axe-notes/);
const own = new URL(page.url()).pathname.split("/")[2];
const ownRoot = (await (await page.request.get(`/api/v1/subjects/${own}`)).json()).root.id;
const signedIn = await setup.storageState();
await setup.close();

const demo = await (await browser.newPage({ baseURL: server })).request.get(`/api/v1/subjects/${subject}`);
const detail = await demo.json();
const topic = detail.root.children?.[0]?.id ?? detail.root.id;
const author = detail.owner?.username ?? detail.author?.username ?? "demo";

const routes = {
  "signed out": [
    "/",
    "/explore",
    "/explore?q=systems",
    `/u/${author}`,
    `/s/${subject}`,
    `/s/${subject}/t/${topic}`,
    "/login",
    "/signup",
  ],
  "signed in": [
    "/",
    "/saved",
    "/new",
    "/settings",
    `/s/${own}`,
    `/s/${own}/settings`,
    `/s/${own}/edit`,
    `/s/${own}/t/${ownRoot}`,
    `/s/${own}/t/${ownRoot}/edit`,
  ],
};
const viewports = {
  desktop: { viewport: { width: 1440, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
};

const byRule = new Map();
const byView = [];
let views = 0;
for (const [who, paths] of Object.entries(routes)) {
  for (const scheme of ["light", "dark"]) {
    for (const [device, options] of Object.entries(viewports)) {
      const context = await browser.newContext({
        baseURL: server,
        colorScheme: scheme,
        ...options,
        ...(who === "signed in" ? { storageState: signedIn } : {}),
      });
      for (const path of paths) {
        const view = await context.newPage();
        await view.goto(path);
        await view.waitForSelector("body[data-hydrated=true]");
        const { violations } = await new AxeBuilder({ page: view }).withTags(TAGS).analyze();
        views += 1;
        let count = 0;
        for (const v of violations) {
          count += v.nodes.length;
          if (v.id === show) {
            for (const n of v.nodes) {
              console.log(`${who} ${scheme} ${device} ${path}: ${n.target.join(" ")}\n  ${n.failureSummary.replace(/\s+/g, " ")}`);
            }
          }
          byRule.set(v.id, (byRule.get(v.id) ?? 0) + v.nodes.length);
        }
        if (count) byView.push({ view: `${who} ${scheme} ${device} ${path}`, count, rules: violations.map((v) => v.id) });
        await view.close();
      }
      await context.close();
    }
  }
}
await browser.close();

const total = [...byRule.values()].reduce((a, b) => a + b, 0);
console.log(`${views} page views against ${server}: ${total} violations on ${byView.length} views`);
for (const [rule, n] of [...byRule].sort((a, b) => b[1] - a[1])) console.log(`  ${rule.padEnd(28)} ${n}`);
for (const v of byView.sort((a, b) => b.count - a.count).slice(0, 12)) {
  console.log(`  ${String(v.count).padStart(4)}  ${v.view}  (${v.rules.join(", ")})`);
}
