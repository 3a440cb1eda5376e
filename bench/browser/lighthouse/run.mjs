// Lighthouse scores of the four reading pages (home, explore, a subject, a topic), signed out,
// with the mobile preset (a throttled phone: simulated slow 4G and a 4× slower CPU), in
// Debian's Chromium. Prints, per page, the median over `--runs` of the performance,
// accessibility and best-practices scores and of time-to-interactive, first and largest
// contentful paint and total blocking time (docs/BENCHMARKS.md, "Lighthouse").
//
// Needs a running release server started with `--seed-demo`; run through run.sh.
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const server = arg("server", "http://127.0.0.1:3300");
const subject = arg("subject", "distributed-systems");
const runs = Number(arg("runs", "3"));

const detail = await (await fetch(`${server}/api/v1/subjects/${subject}`)).json();
const topic = detail.root.children?.[0]?.id ?? detail.root.id;
const pages = {
  home: "/",
  explore: "/explore",
  subject: `/s/${subject}`,
  topic: `/s/${subject}/t/${topic}`,
};

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
let failed = false;
try {
  console.log(`Lighthouse ${(await import("lighthouse/package.json", { with: { type: "json" } })).default.version}, mobile preset, median of ${runs}`);
  console.log("page      perf  a11y  best   TTI ms   FCP ms   LCP ms   TBT ms");
  for (const [name, path] of Object.entries(pages)) {
    const results = [];
    for (let i = 0; i < runs; i++) {
      const { lhr } = await lighthouse(`${server}${path}`, {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: ["performance", "accessibility", "best-practices"],
      });
      results.push(lhr);
    }
    const score = (c) => median(results.map((r) => Math.round(r.categories[c].score * 100)));
    const ms = (a) => median(results.map((r) => r.audits[a].numericValue ?? 0)).toFixed(0);
    const row = [score("performance"), score("accessibility"), score("best-practices")];
    console.log(
      `${name.padEnd(9)} ${String(row[0]).padStart(4)}  ${String(row[1]).padStart(4)}  ${String(row[2]).padStart(4)}` +
        `  ${ms("interactive").padStart(7)}  ${ms("first-contentful-paint").padStart(7)}  ${ms("largest-contentful-paint").padStart(7)}  ${ms("total-blocking-time").padStart(7)}`,
    );
    // What keeps a page under 100 for accessibility or best practices.
    const last = results[results.length - 1];
    for (const category of ["accessibility", "best-practices"]) {
      if (last.categories[category].score === 1) continue;
      failed = true;
      for (const ref of last.categories[category].auditRefs) {
        const audit = last.audits[ref.id];
        if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
          console.log(`    ${category}: ${ref.id}: ${audit.title}`);
        }
      }
    }
  }
} finally {
  await chrome.kill();
}
process.exitCode = failed ? 1 : 0;
