import { expect, test, type Page } from "@playwright/test";
import { api, name, newAuthor, openHydrated, openMap, watchConsole } from "./helpers";

// The map by keyboard alone, through the accessibility tree (roles and names, as a screen
// reader meets them): the reader's map on a subject's page and the map editor share one
// WAI-ARIA tree view (arbor_map::treeview).

/** A subject of `page`'s account: root › (Caching › Invalidation, CDNs), (Consensus › Raft). */
async function threeLevels(page: Page): Promise<string> {
  const subject = await api(page, "POST", "/api/v1/subjects", { title: "Keyboard tree" });
  const slug = subject.slug as string;
  const root = (await api(page, "GET", `/api/v1/subjects/${slug}`)).root.id;
  const add = async (title: string, parent_id: number) =>
    (await api(page, "POST", `/api/v1/subjects/${slug}/topics`, { title, parent_id })).id as number;
  const caching = await add("Caching", root);
  await add("Invalidation", caching);
  await add("CDNs", caching);
  const consensus = await add("Consensus", root);
  await add("Raft", consensus);
  return slug;
}

test("a reader moves through a 3-level map by keyboard, folds it (the drawing follows) and opens a topic", async ({
  page,
}) => {
  const problems = watchConsole(page);
  await newAuthor(page, "treereader");
  const slug = await threeLevels(page);
  await openHydrated(page, `/s/${slug}`);

  const tree = page.getByRole("tree", { name: "Topics of Keyboard tree" });
  const item = (title: string) => tree.getByRole("treeitem", { name: title, exact: true });
  const drawn = () => page.getByTestId("map").locator("svg text").allTextContents();
  const keys = page.keyboard;

  // One tab stop for the whole tree.
  await expect(tree.locator('[role="treeitem"][tabindex="0"]')).toHaveCount(1);
  await item("Keyboard tree").focus();
  await keys.press("ArrowDown");
  await expect(item("Caching")).toBeFocused();
  await expect(item("Caching")).toHaveAttribute("aria-level", "2");
  await expect(item("Caching")).toHaveAttribute("aria-setsize", "2");
  await expect(item("Caching")).toHaveAttribute("aria-posinset", "1");
  await expect(item("Caching")).toHaveAttribute("aria-expanded", "true");
  await keys.press("ArrowRight");
  await expect(item("Invalidation")).toBeFocused();
  await expect(item("Invalidation")).toHaveAttribute("aria-level", "3");
  await keys.press("ArrowLeft");
  await expect(item("Caching")).toBeFocused();

  // ← folds: in the tree, on the drawing, and in the address (a reload keeps it).
  await keys.press("ArrowLeft");
  await expect(item("Caching")).toHaveAttribute("aria-expanded", "false");
  await expect(item("Invalidation")).toBeHidden();
  await expect.poll(drawn).toContain("Caching (+2)");
  expect(await drawn()).not.toContain("Invalidation");
  await expect(page).toHaveURL(/fold=\d+/);
  await keys.press("ArrowDown");
  await expect(item("Consensus")).toBeFocused();
  await keys.press("ArrowUp");
  await keys.press("ArrowRight");
  await expect(item("Caching")).toHaveAttribute("aria-expanded", "true");
  await expect(item("Invalidation")).toBeVisible();
  await expect.poll(drawn).toContain("Invalidation");

  // End, Home, and a letter (type-ahead).
  await keys.press("End");
  await expect(item("Raft")).toBeFocused();
  await keys.press("Home");
  await expect(item("Keyboard tree")).toBeFocused();
  await keys.press("c");
  await expect(item("Caching")).toBeFocused();
  await keys.press("c");
  await expect(item("CDNs")).toBeFocused();
  await keys.press("r");
  await expect(item("Raft")).toBeFocused();
  await expect(tree.locator('[role="treeitem"][tabindex="0"]')).toHaveText("Raft");

  // Enter opens the topic.
  await keys.press("Enter");
  await expect(page.getByTestId("topic-title")).toHaveText("Raft");
  expect(problems).toEqual([]);
});

test("an author edits the map by keyboard through its tree, hears what each key did, and hears a collaborator's addition", async ({
  browser,
}) => {
  const owner = await (await browser.newContext()).newPage();
  const other = await (await browser.newContext()).newPage();
  const problems = [owner, other].map(watchConsole);
  await newAuthor(owner, "treeowner");
  const otherName = await newAuthor(other, "treeother");
  const slug = await threeLevels(owner);
  await api(owner, "PUT", `/api/v1/subjects/${slug}/members/${otherName}`, { role: "editor" });
  await openMap(owner, slug);

  const canvas = owner.getByTestId("map-canvas");
  const tree = owner.getByRole("tree", { name: "Mind map" });
  const item = (title: string) => tree.getByRole("treeitem", { name: title, exact: true });
  const heard = owner.getByTestId("map-announce");
  const keys = owner.keyboard;
  /** The selection is `title`, as a screen reader is told: the tree's active item. */
  const selected = async (title: string) => {
    await expect(item(title)).toHaveAttribute("aria-selected", "true");
    await expect(canvas).toHaveAttribute("aria-activedescendant", (await item(title).getAttribute("id"))!);
  };

  await keys.press("Home");
  await selected("Keyboard tree");
  await keys.press("ArrowDown");
  await selected("Caching");
  await expect(item("Caching")).toHaveAttribute("aria-level", "2");
  await keys.press("ArrowRight");
  await selected("Invalidation");
  await keys.press("ArrowLeft");
  await keys.press("ArrowLeft");
  await expect(item("Caching")).toHaveAttribute("aria-expanded", "false");
  await keys.press("ArrowRight");
  await expect(item("Caching")).toHaveAttribute("aria-expanded", "true");
  await keys.press("End");
  await selected("Raft");
  await keys.press("ArrowLeft");
  await selected("Consensus");

  // Add (Tab), name, rename (F2), move (Ctrl+↑), delete and undo: each is said.
  await keys.press("Tab");
  await expect(heard).toHaveText("Added “New topic” under “Consensus”.");
  await name(owner, "Paxos");
  await expect(heard).toHaveText("Renamed “New topic” to “Paxos”.");
  await selected("Paxos");
  await keys.press("F2");
  await owner.keyboard.type("Multi-Paxos");
  await keys.press("Enter");
  await expect(heard).toHaveText("Renamed “Paxos” to “Multi-Paxos”.");
  await keys.press("Control+ArrowUp");
  await expect(heard).toHaveText("Reordered the subtopics of “Consensus”.");
  await expect(item("Multi-Paxos")).toHaveAttribute("aria-posinset", "1");
  await expect(item("Raft")).toHaveAttribute("aria-posinset", "2");
  // Ctrl+→ moves a topic into the one before it, Ctrl+← back out of it.
  await keys.press("ArrowDown");
  await selected("Raft");
  await keys.press("Control+ArrowRight");
  await expect(heard).toHaveText("Moved “Raft” under “Multi-Paxos”.");
  await expect(item("Raft")).toHaveAttribute("aria-level", "4");
  await keys.press("Control+ArrowLeft");
  await expect(heard).toHaveText("Moved “Raft” under “Consensus”.");
  await expect(item("Raft")).toHaveAttribute("aria-level", "3");
  await expect(item("Raft")).toHaveAttribute("aria-posinset", "2");
  await keys.press("ArrowUp");
  await selected("Multi-Paxos");
  await keys.press("Delete");
  await expect(heard).toHaveText("Deleted “Multi-Paxos”. Ctrl+Z brings it back.");
  await expect(item("Multi-Paxos")).toHaveCount(0);
  await selected("Consensus");
  await keys.press("Control+z");
  await expect(heard).toHaveText("Undone: added “Multi-Paxos” under “Consensus”.");
  await expect(item("Multi-Paxos")).toHaveCount(1);

  // A collaborator adds a topic under Consensus, by keyboard too: the owner hears who did
  // what, politely, once it has settled.
  await openMap(other, slug);
  await other.keyboard.press("Home");
  for (let i = 0; i < 4; i++) await other.keyboard.press("ArrowDown");
  await expect(other.getByRole("treeitem", { name: "Consensus", exact: true })).toHaveAttribute("aria-selected", "true");
  await other.keyboard.press("Tab");
  await name(other, "Zab");
  await expect(heard).toHaveText(
    new RegExp(`^${otherName} (added “Zab” under “Consensus”|renamed “New topic” to “Zab”)\\.$`),
    { timeout: 10_000 },
  );
  await expect(item("Zab")).toHaveAttribute("aria-level", "3");
  expect(problems.flat()).toEqual([]);
});
