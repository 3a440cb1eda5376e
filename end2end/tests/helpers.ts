import { expect, type Page } from "@playwright/test";

export const PASSWORD = "mossy granite lantern 42";

/** A username no other test (or earlier run against the same database) has used. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 32);
}

/** Opens `path` and waits until the app has hydrated (only where JavaScript runs). */
export async function openHydrated(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Fails the test on any console error or uncaught exception (CSP violations included). */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));
  return problems;
}

export async function signUp(page: Page, username: string, password = PASSWORD) {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
}

export async function signIn(page: Page, username: string, password = PASSWORD) {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A JSON API call from the page's session (state-changing calls show our origin). */
export async function api(page: Page, method: string, path: string, data?: unknown) {
  const origin = new URL(page.url()).origin;
  const r = await page.request.fetch(path, { method, data, headers: { Origin: origin } });
  expect(r.ok(), `${method} ${path}: ${await r.text()}`).toBe(true);
  return r.status() === 204 ? null : r.json();
}

export async function newAuthor(page: Page, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await openHydrated(page, "/signup");
  await signUp(page, name);
  await expect(page).toHaveURL("/");
  return name;
}

export async function openMap(page: Page, slug: string) {
  await openHydrated(page, `/s/${slug}/edit`);
  const editor = page.getByTestId("map-editor");
  await expect(editor).toHaveAttribute("data-link", "online");
  await expect(editor).toHaveAttribute("data-mode", "edit");
  await page.getByTestId("map-canvas").focus();
}

/** Names the topic just created (its name field is open) and goes back to the map. */
export async function name(page: Page, title: string) {
  const field = page.getByTestId("map-rename");
  await expect(field).toBeFocused();
  await page.keyboard.type(title);
  await page.keyboard.press("Enter");
  await expect(field).toBeHidden();
  await expect(page.getByTestId("map-canvas")).toBeFocused();
}
