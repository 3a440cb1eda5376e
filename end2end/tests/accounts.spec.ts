import { expect, test } from "@playwright/test";
import { PASSWORD, openHydrated, signIn, signUp, uniqueName, watchConsole } from "./helpers";

test.describe("accounts with JavaScript", () => {
  test("sign up, see your name, sign out, sign in again", async ({ page }) => {
    const problems = watchConsole(page);
    const name = uniqueName("ada");
    await openHydrated(page, "/signup");
    await signUp(page, name);
    await expect(page).toHaveURL("/");
    await expect(page.getByTestId("header-username")).toHaveText(name);
    await expect(page.getByTestId("welcome")).toContainText(name);

    // The user menu: Escape closes it and gives focus back to its button.
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    const menu = page.getByTestId("user-menu");
    await page.getByTestId("header-username").click();
    await expect(page.getByTestId("sign-out")).toBeVisible();
    await page.getByRole("link", { name: "Settings" }).focus();
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("sign-out")).toBeHidden();
    await expect(menu.locator("summary")).toBeFocused();

    await page.getByTestId("header-username").click();
    await page.getByTestId("sign-out").click();
    await expect(page.getByTestId("header-username")).toHaveCount(0);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "Sign in" })).toBeVisible();

    await nav.getByRole("link", { name: "Sign in" }).click();
    await expect(page).toHaveURL("/login");
    await signIn(page, name);
    await expect(page).toHaveURL("/");
    await expect(page.getByTestId("header-username")).toHaveText(name);
    expect(problems).toEqual([]);
  });

  test("a wrong password shows an error and does not sign in", async ({ page, browser }) => {
    const name = uniqueName("wrongpw");
    const other = await browser.newPage();
    await openHydrated(other, "/signup");
    await signUp(other, name);
    await expect(other.getByTestId("header-username")).toHaveText(name);
    await other.close();

    await openHydrated(page, "/login");
    await signIn(page, name, "not the right password");
    await expect(page.getByTestId("form-error")).toHaveText("Wrong username or password.");
    await expect(page).toHaveURL(/\/login/);
    await expect(page.getByTestId("header-username")).toHaveCount(0);
    const me = await page.request.get("/api/v1/me");
    expect(me.status()).toBe(401);
  });

  test("a taken username shows an inline error", async ({ page, browser }) => {
    const name = uniqueName("taken");
    const first = await browser.newPage();
    await openHydrated(first, "/signup");
    await signUp(first, name);
    await expect(first.getByTestId("header-username")).toHaveText(name);
    await first.close();

    await openHydrated(page, "/signup");
    await signUp(page, name.toUpperCase());
    await expect(page.getByTestId("error-username")).toHaveText("That username is taken.");
    await expect(page.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
    await expect(page).toHaveURL(/\/signup/);
  });

  test("settings: edit the profile and create a token", async ({ page }) => {
    const name = uniqueName("settings");
    await openHydrated(page, "/signup");
    await signUp(page, name);
    await expect(page.getByTestId("header-username")).toHaveText(name);
    await openHydrated(page, "/settings");
    await expect(page.getByTestId("sessions")).toContainText("this browser");
    await page.getByLabel("Display name").fill("Grace Hopper");
    await page.getByLabel("Bio").fill("Compilers and maps.");
    await page.getByRole("button", { name: "Save profile" }).click();
    await expect(page.getByText("Saved.")).toBeVisible();

    await page.getByLabel("Token name").fill("laptop");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await page.getByTestId("new-token").textContent()) ?? "";
    expect(token).toMatch(/^arbor_pat_/);
    await expect(page.getByText("laptop")).toBeVisible();
    const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
    expect((await me.json()).display_name).toBe("Grace Hopper");

    await page.goto(`/u/${name}`);
    await expect(page.getByTestId("profile-name")).toHaveText("Grace Hopper");
    await expect(page.getByTestId("profile-bio")).toHaveText("Compilers and maps.");
  });
});

test.describe("accounts without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("pages render and sign-up and sign-in work as plain form posts", async ({ page }) => {
    const name = uniqueName("nojs");
    await page.goto("/");
    await expect(page.getByRole("heading", { name: /Learn and teach/ })).toBeVisible();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign up" }).click();
    await expect(page).toHaveURL("/signup");
    await signUp(page, name);
    await expect(page).toHaveURL("/");
    await expect(page.getByTestId("header-username")).toHaveText(name);

    // The user menu opens without JavaScript (<details>) and signs out with a form post.
    await page.getByTestId("header-username").click();
    await page.getByTestId("sign-out").click();
    await expect(page.getByTestId("header-username")).toHaveCount(0);

    await page.goto("/login");
    await signIn(page, name, "a wrong password");
    await expect(page.getByTestId("form-error")).toHaveText("Wrong username or password.");
    await signIn(page, name, PASSWORD);
    await expect(page).toHaveURL("/");
    await expect(page.getByTestId("header-username")).toHaveText(name);
  });

  test("a taken username is reported inline without JavaScript", async ({ page, request }) => {
    const name = uniqueName("nojstaken");
    const r = await request.post("/api/v1/auth/signup", { data: { username: name, password: PASSWORD } });
    expect(r.status()).toBe(201);
    await page.goto("/signup");
    await signUp(page, name);
    await expect(page.getByTestId("error-username")).toHaveText("That username is taken.");
  });
});
