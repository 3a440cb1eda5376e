// What a first visit to each reading page costs, signed out with a cold cache, in headless
// Chromium: bytes transferred (WebAssembly, script, style, the page itself, in all), requests,
// and when the page was first painted and its islands hydrated. The budget it is held to
// (≤ 150 KB of WebAssembly, ≤ 200 KB in all) is checked by end2end/tests/budget.spec.ts; this
// prints figures over several loads, on a demo subject (`--seed-demo`) or `--subject`.
//
//   node bench/browser/first-load.mjs --server http://127.0.0.1:3300 [--loads 5] [--subject distributed-systems]
//
// Needs a running release server built with `--precompress` (the bundles are sent brotli) and
// end2end/node_modules (scripts/setup.sh --test).
import { arg, launch, pct } from "./common.mjs";

const server = arg("server", "http://127.0.0.1:3300");
const loads = Number(arg("loads", "5"));
const subject = arg("subject", "distributed-systems");

const browser = await launch();
const probe = await browser.newPage({ baseURL: server });
const detail = await (await probe.request.get(`/api/v1/subjects/${subject}`)).json();
const topic = detail.root.children?.[0]?.id ?? detail.root.id;
await probe.close();

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const pages = ["/", "/explore", `/s/${subject}`, `/s/${subject}/t/${topic}`];
console.log(`${loads} cold loads each, 1440×900, against ${server}`);
for (const path of pages) {
  const runs = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ baseURL: server, viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(path);
    await page.waitForSelector("body[data-hydrated=true]");
    runs.push(
      await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const all = [nav, ...performance.getEntriesByType("resource")];
        const sum = (f) => all.filter(f).reduce((n, e) => n + e.transferSize, 0);
        const ext = (e, x) => new URL(e.name).pathname.endsWith(x);
        const paint = performance.getEntriesByName("first-contentful-paint")[0];
        return {
          wasm: all.filter((e) => ext(e, ".wasm")).reduce((n, e) => n + e.encodedBodySize, 0),
          js: sum((e) => ext(e, ".js")),
          css: sum((e) => ext(e, ".css")),
          html: nav.transferSize,
          total: sum(() => true),
          requests: all.length,
          fcp: paint ? paint.startTime : NaN,
          hydrated: performance.now(),
        };
      }),
    );
    await context.close();
  }
  const med = (k) => pct(runs.map((r) => r[k]), 50);
  console.log(
    `${path.padEnd(44)} wasm ${kb(med("wasm"))}  js ${kb(med("js"))}  css ${kb(med("css"))}  html ${kb(med("html"))}  ` +
      `total ${kb(med("total"))} in ${med("requests")} requests  first paint p50 ${med("fcp").toFixed(0)} ms  hydrated by ${med("hydrated").toFixed(0)} ms`,
  );
}
await browser.close();
