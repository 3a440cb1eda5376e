import { expect, test } from "@playwright/test";
import { api, newAuthor, openHydrated, watchConsole } from "./helpers";

// Links people can discover: typing [[ in the live editor offers the subject's topics.

test("typing [[ offers the subject's topics; choosing one writes the link, closed", async ({ page }) => {
  const problems = watchConsole(page);
  await newAuthor(page, "linker");
  const slug = (await api(page, "POST", "/api/v1/subjects", { title: "Linked notes" })).slug as string;
  const root = (await api(page, "GET", `/api/v1/subjects/${slug}`)).root.id;
  const add = async (title: string) =>
    (await api(page, "POST", `/api/v1/subjects/${slug}/topics`, { title, parent_id: root })).id as number;
  const writing = await add("Writing");
  await add("Consensus");
  await add("Raft consensus");
  await add("Caching");

  await openHydrated(page, `/s/${slug}/t/${writing}/edit`);
  await expect(page.getByTestId("live-editor")).toHaveAttribute("data-link", "online");
  await expect(page.getByTestId("link-hint")).toContainText("[[");
  const input = page.getByTestId("live-input");
  await input.click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("See [[cons");
  const picker = page.getByTestId("link-picker");
  await expect(picker).toBeVisible();
  // Titles that start with what was typed come first.
  await expect(picker.getByRole("option")).toHaveText(["Consensus", "Raft consensus"]);
  await expect(picker.getByRole("option", { name: "Consensus", exact: true })).toHaveAttribute("aria-selected", "true");
  await expect(input).toHaveAttribute("aria-activedescendant", /links-\d+-0/);
  await page.keyboard.press("ArrowDown");
  await expect(picker.getByRole("option", { name: "Raft consensus", exact: true })).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("Enter");
  await expect(picker).toBeHidden();
  await expect(input).toHaveValue(/See \[\[Consensus\]\]$/);
  // The caret is after the link: typing goes on after it.
  await page.keyboard.type(" and ");
  // Escape closes the offer and leaves the text as typed.
  await page.keyboard.type("[[Ca");
  await expect(picker.getByRole("option")).toHaveText(["Caching"]);
  await page.keyboard.press("Escape");
  await expect(picker).toBeHidden();
  await page.keyboard.type("ching]]");
  await expect(input).toHaveValue(/See \[\[Consensus\]\] and \[\[Caching\]\]$/);
  // A click chooses too; the edit is saved and the preview links it.
  await page.keyboard.type(" [[Raf");
  await picker.getByRole("option", { name: "Raft consensus", exact: true }).click();
  await expect(input).toHaveValue(/\[\[Raft consensus\]\]$/);
  await expect(page.getByTestId("live-editor")).toHaveAttribute("data-saved", "true");
  await expect(page.getByTestId("live-preview").getByRole("link", { name: "Raft consensus" })).toBeVisible();
  expect(problems).toEqual([]);
});
