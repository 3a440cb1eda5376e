// What the browser benches share: their command-line options, headless Chromium (through the
// Playwright installed for end2end/), and percentiles.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../end2end/package.json", import.meta.url));
const { chromium } = require("@playwright/test");

/** The value after `--name` on the command line, or `fallback`. */
export const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};

/** Debian's Chromium (or `CHROMIUM_PATH`), headless, software rendering. */
export const launch = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });

/** The `p`th percentile of `values` (nearest rank). */
export const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Prints one line of figures: p50, p95, p99 when asked, and the maximum, in ms. */
export const report = (label, values, { width = 26, digits = 2, p99 = true } = {}) => {
  const f = (v) => `${v.toFixed(digits)} ms`;
  const p99Part = p99 ? `  p99 ${f(pct(values, 99))}` : "";
  console.log(
    `${label.padEnd(width)} p50 ${f(pct(values, 50))}  p95 ${f(pct(values, 95))}${p99Part}  max ${f(Math.max(...values))}`,
  );
};
