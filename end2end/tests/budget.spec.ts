import { expect, test } from "@playwright/test";
import { PASSWORD, uniqueName } from "./helpers";

// A first visit to a reading page (cold cache, signed out): the WebAssembly it downloads, as
// sent (brotli from the precompressed release build), and everything it transfers. The
// reading pages hydrate only their islands (app/src/components/islands.rs); the live editors
// are a module of their own that these pages never load.
const WASM_BUDGET = 150 * 1024;
const TOTAL_BUDGET = 200 * 1024;

test("reading pages ship at most 150 KB of WebAssembly and 200 KB in all on a first visit", async ({
  browser,
  request,
  baseURL,
}) => {
  const headers = { origin: new URL(baseURL!).origin };
  const name = uniqueName("budget");
  const signup = await request.post("/api/v1/auth/signup", { data: { username: name, password: PASSWORD }, headers });
  expect(signup.status()).toBe(201);
  const created = await request.post("/api/v1/subjects", {
    data: { title: `Budget ${Date.now().toString(36)}`, visibility: "public", tags: ["budget"] },
    headers,
  });
  expect(created.status()).toBe(201);
  const slug: string = (await created.json()).slug;
  const root = (await (await request.get(`/api/v1/subjects/${slug}`)).json()).root.id;
  const body = "## A topic\n\nSome **markdown** with a [[Second]] link.\n\n```rust\nfn main() {}\n```\n".repeat(4);
  const topic = await request.post(`/api/v1/subjects/${slug}/topics`, {
    data: { title: "First", body, parent_id: root },
    headers,
  });
  expect(topic.status()).toBe(201);
  const topicId = (await topic.json()).id;
  await request.post(`/api/v1/subjects/${slug}/topics`, { data: { title: "Second", parent_id: root }, headers });

  for (const path of ["/", "/explore", `/s/${slug}`, `/s/${slug}/t/${topicId}`]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(path);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    const entries = await page.evaluate(() =>
      [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].map((e) => {
        const r = e as PerformanceResourceTiming;
        return { name: r.name, transfer: r.transferSize, body: r.encodedBodySize };
      }),
    );
    const wasm = entries.filter((e) => new URL(e.name).pathname.endsWith(".wasm")).reduce((n, e) => n + e.body, 0);
    const total = entries.reduce((n, e) => n + e.transfer, 0);
    console.log(
      `first load of ${path}: WebAssembly ${(wasm / 1024).toFixed(1)} KB, total ${(total / 1024).toFixed(1)} KB in ${entries.length} requests`,
    );
    expect(entries.some((e) => new URL(e.name).pathname.startsWith("/editor/")), `${path} loaded the editor`).toBe(false);
    expect(wasm, `${path}: WebAssembly`).toBeGreaterThan(0);
    expect(wasm, `${path}: WebAssembly`).toBeLessThanOrEqual(WASM_BUDGET);
    expect(total, `${path}: total`).toBeLessThanOrEqual(TOTAL_BUDGET);
    await context.close();
  }
});
