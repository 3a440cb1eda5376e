// The live map editor on a 1,000-topic map in headless Chromium: how soon the page paints,
// how soon the live map is drawn, frame times while panning and zooming it, and how long a
// fold (a new layout and a redraw of the whole map) takes. Prints figures; asserts nothing.
//
//   node bench/browser/map.mjs --server http://127.0.0.1:3300 [--loads 5] [--frames 240]
//
// Needs a running release server with the editor module built (scripts/build-editor.sh, then
// `cargo leptos build --release`) and end2end/node_modules (scripts/setup.sh --test).
import { arg, launch, report } from "./common.mjs";

const server = arg("server", "http://127.0.0.1:3300");
const loads = Number(arg("loads", "5"));
const frames = Number(arg("frames", "240"));

const browser = await launch();
const context = await browser.newContext({ baseURL: server, viewport: { width: 1440, height: 900 } });
const page = await context.newPage();
const headers = { origin: server };
const tag = Date.now().toString(36);
const signup = await page.request.post("/api/v1/auth/signup", {
  data: { username: `mapper_${tag}`, password: "mossy granite lantern 42" },
  headers,
});
if (!signup.ok()) throw new Error(`sign up: ${signup.status()} ${await signup.text()}`);

// 9 branches of 10 topics of 10 leaves: 999 topics under the root, the most a subject holds.
let outline = `# Map bench ${tag}\n\n`;
for (let b = 1; b <= 9; b++) {
  outline += `## Branch ${b} with a longer label\n\n`;
  for (let t = 1; t <= 10; t++) {
    outline += `### Topic ${b}.${t}\n\n`;
    for (let l = 1; l <= 10; l++) outline += `#### Leaf ${b}.${t}.${l}\n\n`;
  }
}
const created = await (
  await page.request.post("/api/v1/subjects", { data: { title: `Map bench ${tag}` }, headers })
).json();
const slug = created.slug;
const imported = await page.request.post(`/api/v1/subjects/${slug}/imports`, {
  data: { format: "markdown", filename: "bench.md", content: outline },
  headers,
});
if (!imported.ok()) throw new Error(`import: ${imported.status()} ${await imported.text()}`);
const topics = (await imported.json()).topics;

// When the live map is first shown: the editor sets the canvas's zoom once it has drawn.
await context.addInitScript(() => {
  const watch = () => {
    const seen = () => {
      if (window.__live === undefined && document.querySelector('[data-testid="map-canvas"][data-zoom]')) {
        window.__live = performance.now();
        // Two frames on: painted.
        requestAnimationFrame(() => requestAnimationFrame(() => (window.__livePainted = performance.now())));
      }
    };
    new MutationObserver(seen).observe(document.documentElement, { attributes: true, subtree: true, childList: true });
  };
  if (document.documentElement) watch();
  else document.addEventListener("DOMContentLoaded", watch);
});

const firstPaint = [];
const livePainted = [];
for (let i = 0; i < loads; i++) {
  await page.goto(`/s/${slug}/edit`);
  await page.locator('[data-testid="map-editor"][data-link="online"]').waitFor();
  await page.waitForFunction(() => window.__livePainted !== undefined);
  const t = await page.evaluate(() => ({
    fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
    live: window.__livePainted,
  }));
  firstPaint.push(t.fcp);
  livePainted.push(t.live);
}
const drawnTopics = await page.locator('[data-testid="map-canvas"] [data-topic]').count();

// Frames while the map moves: each animation frame sends one wheel event (a pan, or with
// Ctrl a zoom in or out), as a touchpad does; the gap between frames is what a person sees.
async function frameTimes(kind) {
  return page.evaluate(
    ([kind, frames]) =>
      new Promise((done) => {
        const canvas = document.querySelector('[data-testid="map-canvas"]');
        const box = canvas.getBoundingClientRect();
        const gaps = [];
        const handlers = [];
        // Frames the browser itself reports as long (50 ms or more, rendering included).
        const long = [];
        const observer = new PerformanceObserver((list) => long.push(...list.getEntries().map((e) => e.duration)));
        observer.observe({ type: "long-animation-frame" });
        let last = 0;
        let n = 0;
        const step = (now) => {
          if (last) gaps.push(now - last);
          last = now;
          if (n++ >= frames) {
            observer.disconnect();
            return done({ gaps, handlers, long });
          }
          const zoom = kind === "zoom";
          const event = new WheelEvent("wheel", {
            bubbles: true,
            cancelable: true,
            clientX: box.left + box.width / 2,
            clientY: box.top + box.height / 2,
            deltaX: zoom ? 0 : 6,
            deltaY: zoom ? (Math.floor(n / 30) % 2 ? 12 : -12) : 4,
            ctrlKey: zoom,
          });
          const start = performance.now();
          canvas.dispatchEvent(event);
          handlers.push(performance.now() - start);
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      }),
    [kind, frames],
  );
}
// Fitted, every topic is on screen (at the smallest zoom); at 100 % only those in view.
await page.getByTestId("map-fit").click();
const fittedZoom = await page.getByTestId("map-canvas").getAttribute("data-zoom");
const pan = await frameTimes("pan");
const zoom = await frameTimes("zoom");
await page.getByTestId("map-fit").click();
while (Number(await page.getByTestId("map-canvas").getAttribute("data-zoom")) < 1) {
  await page.getByTestId("map-zoom-in").click();
}
const near = await frameTimes("pan");

// Folding the root and unfolding it again (Space, nothing selected): each a new layout and
// the map drawn again, the unfold drawing all 1,000 topics (as any change to the map does).
const redraws = await page.evaluate(async () => {
  const canvas = document.querySelector('[data-testid="map-canvas"]');
  const times = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    canvas.dispatchEvent(new KeyboardEvent("keydown", { key: " ", bubbles: true, cancelable: true }));
    times.push(performance.now() - start);
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  }
  return times;
});

const figures = (label, values) => report(label, values, { width: 34, digits: 1, p99: false });
console.log(`${topics} topics imported; ${drawnTopics} drawn; ${loads} loads of /s/${slug}/edit at 1440×900; fitted zoom ${fittedZoom}`);
figures("first contentful paint", firstPaint);
figures("live map drawn and painted", livePainted);
figures(`pan, fitted: frame gap (${pan.gaps.length} frames)`, pan.gaps);
figures("pan, fitted: wheel handler", pan.handlers);
figures(`zoom: frame gap (${zoom.gaps.length} frames)`, zoom.gaps);
figures("zoom: wheel handler", zoom.handlers);
figures(`pan at 100 %: frame gap`, near.gaps);
figures("fold the root (1 topic drawn)", redraws.filter((_, i) => i % 2 === 0));
figures("unfold it (layout + 1,000 drawn)", redraws.filter((_, i) => i % 2 === 1));
const slow = (gaps) => gaps.filter((g) => g > 1.5 * (1000 / 60)).length;
console.log(`frames over 25 ms: pan ${slow(pan.gaps)}, zoom ${slow(zoom.gaps)}, pan at 100 % ${slow(near.gaps)}`);
console.log(`long animation frames (≥ 50 ms): pan ${pan.long.length}, zoom ${zoom.long.length}, pan at 100 % ${near.long.length}`);
await browser.close();
