import { expect, test, type Page } from "@playwright/test";
import { openHydrated, signUp, uniqueName, watchConsole } from "./helpers";

async function addChild(page: Page, title: string) {
  await page.getByLabel("New subtopic").fill(title);
  await page.getByTestId("add-child").click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(title);
}

async function addSibling(page: Page, title: string) {
  await page.getByLabel("New topic after this one").fill(title);
  await page.getByTestId("add-sibling").click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(title);
}

async function addMainTopic(page: Page, slug: string, title: string) {
  await openHydrated(page, `/s/${slug}`);
  await page.getByLabel("Title of a new main topic").fill(title);
  await page.getByTestId("add-main-topic").click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(title);
}

test("an author publishes a map; a reader finds, reads, likes, saves and follows; a stranger cannot see a private subject", async ({
  browser,
}) => {
  const authorContext = await browser.newContext();
  const author = await authorContext.newPage();
  const authorProblems = watchConsole(author);
  const authorName = uniqueName("author");
  const tag = `e2e${Date.now().toString(36)}`;
  const title = `Graph theory ${tag}`;

  // The author creates a draft subject.
  await openHydrated(author, "/signup");
  await signUp(author, authorName);
  await expect(author).toHaveURL("/");
  await openHydrated(author, "/new");
  await author.getByLabel("Title").fill(title);
  await author.getByLabel("Summary").fill("Vertices, edges and the paths between them.");
  await author.getByLabel("Tags").fill(`${tag}, maths`);
  await author.getByTestId("create-subject").click();
  await expect(author).toHaveURL(/\/s\/graph-theory-/);
  const slug = new URL(author.url()).pathname.split("/")[2];
  await expect(author.getByTestId("visibility")).toHaveText("private");

  // A 3-level tree of 7 topics: the root, two main topics, two subtopics under each.
  await addMainTopic(author, slug, "Vertices");
  await addChild(author, "Degree");
  await addSibling(author, "Paths");
  await addMainTopic(author, slug, "Edges");
  await addChild(author, "Weights");
  await addSibling(author, "Directions");
  // A cross link from Directions to Paths, written in the live editor: the preview resolves it
  // at once, the topic page once the body's snapshot is refreshed (2 s after the last change).
  const liveEditor = author.getByTestId("live-editor");
  await expect(liveEditor).toHaveAttribute("data-link", "online");
  await author.getByTestId("live-input").fill("Directed edges make a path one-way; compare [[Paths]].");
  await expect(liveEditor).toHaveAttribute("data-saved", "true");
  await expect(author.getByTestId("live-preview").getByRole("link", { name: "Paths" })).toBeVisible();
  const directions = author.url().replace(/\/edit$/, "");
  await expect
    .poll(
      async () => {
        await author.goto(directions);
        return author.getByTestId("topic-body").getByRole("link", { name: "Paths" }).count();
      },
      { timeout: 20_000, intervals: [1_000] },
    )
    .toBe(1);
  await expect(author.getByTestId("topic-title")).toHaveText("Directions");

  // Publish.
  await openHydrated(author, `/s/${slug}/settings`);
  await author.getByTestId("visibility-public").check();
  await author.getByTestId("save-subject").click();
  await expect(author).toHaveURL(`/s/${slug}`);
  await expect(author.getByTestId("visibility")).toHaveCount(0);
  await expect(author.getByTestId("outline").getByRole("treeitem")).toHaveCount(7);
  expect(authorProblems).toEqual([]);

  // A reader finds it with a tag: query, opens it and reads.
  const readerContext = await browser.newContext();
  const reader = await readerContext.newPage();
  const readerProblems = watchConsole(reader);
  await openHydrated(reader, "/signup");
  await signUp(reader, uniqueName("reader"));
  await expect(reader).toHaveURL("/");
  await openHydrated(reader, "/explore");
  await reader.getByTestId("search-input").fill(`tag:${tag}`);
  await reader.getByTestId("search-button").click();
  await expect(reader.getByTestId("subject-card")).toHaveCount(1);
  await reader.getByRole("link", { name: title }).click();
  await expect(reader).toHaveURL(`/s/${slug}`);
  await expect(reader.getByTestId("map").locator("svg")).toBeVisible();
  await expect(reader.getByTestId("map").locator("svg a")).toHaveCount(7);
  await reader.getByTestId("outline").getByRole("treeitem", { name: "Paths" }).click();
  await expect(reader.getByTestId("topic-title")).toHaveText("Paths");
  await expect(reader.getByTestId("backlinks").getByRole("link", { name: "Directions" })).toBeVisible();
  await expect(reader.getByTestId("breadcrumbs")).toContainText("Vertices");

  // Likes and saves it, follows the author, and sees it in the feed and the saved list.
  await reader.getByTestId("breadcrumbs").getByRole("link", { name: title }).click();
  await expect(reader).toHaveURL(`/s/${slug}`);
  await reader.getByTestId("like-button").click();
  await expect(reader.getByTestId("like-button")).toHaveAttribute("aria-pressed", "true");
  await expect(reader.getByTestId("likes")).toHaveText("1");
  await expect(reader.getByTestId("counts")).toContainText("1 like · 0 saves");
  await reader.getByTestId("save-button").click();
  await expect(reader.getByTestId("save-button")).toHaveAttribute("aria-pressed", "true");
  await reader.getByTestId("subject-author").click();
  await expect(reader).toHaveURL(`/u/${authorName}`);
  await reader.getByTestId("follow-button").click();
  await expect(reader.getByTestId("followers")).toHaveText("1");
  await expect(reader.getByText("1 follower ·")).toBeVisible();
  await expect(reader.getByTestId("follow-button")).toHaveText("Following");
  await openHydrated(reader, "/");
  await expect(reader.getByTestId("feed").getByRole("link", { name: title })).toBeVisible();
  await openHydrated(reader, "/saved");
  await expect(reader.getByTestId("saved").getByRole("link", { name: title })).toBeVisible();
  expect(readerProblems).toEqual([]);

  // The author keeps another subject private: a signed-out stranger gets 404 and no listing.
  await openHydrated(author, "/new");
  await author.getByLabel("Title").fill(`Private notes ${tag}`);
  await author.getByLabel("Tags").fill(tag);
  await author.getByTestId("create-subject").click();
  await expect(author).toHaveURL(/\/s\/private-notes-/);
  const privatePath = new URL(author.url()).pathname;
  const strangerContext = await browser.newContext();
  const stranger = await strangerContext.newPage();
  const response = await stranger.goto(privatePath);
  expect(response?.status()).toBe(404);
  await expect(stranger.getByRole("heading", { name: "Nothing here" })).toBeVisible();
  await stranger.goto(`/explore?q=tag:${tag}`);
  await expect(stranger.getByTestId("subject-card")).toHaveCount(1);
  await expect(stranger.getByText(`Private notes ${tag}`)).toHaveCount(0);
  // A stranger on the author's page is offered to sign in to follow, and comes back after.
  await openHydrated(stranger, `/u/${authorName}`);
  await expect(stranger.getByTestId("follow-button")).toHaveCount(0);
  await expect(stranger.getByTestId("follow-sign-in")).toHaveAttribute("href", `/login?next=/u/${authorName}`);
  await Promise.all([authorContext.close(), readerContext.close(), strangerContext.close()]);
});

test("without JavaScript the catalogue explains a malformed query and subjects read fully", async ({
  browser,
  playwright,
  baseURL,
}) => {
  // An author made through the API.
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL ?? "" } });
  const name = uniqueName("nojs");
  expect((await api.post("/api/v1/auth/signup", { data: { username: name, password: "mossy granite lantern 42" } })).status()).toBe(201);
  const created = await api.post("/api/v1/subjects", { data: { title: `Plain reading ${name}`, visibility: "public" } });
  const slug = (await created.json()).slug as string;
  const root = (await (await api.get(`/api/v1/subjects/${slug}`)).json()).root.id as number;
  const topic = await api.post(`/api/v1/subjects/${slug}/topics`, {
    data: { title: "Tables", body: "| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```", parent_id: root },
  });
  expect(topic.status()).toBe(201);
  await api.dispose();

  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`/s/${slug}`);
  await expect(page.getByTestId("map").locator("svg a")).toHaveCount(2);
  await page.getByTestId("outline").getByRole("treeitem", { name: "Tables" }).click();
  await expect(page.getByTestId("topic-title")).toHaveText("Tables");
  await expect(page.getByTestId("topic-body").locator("table td")).toHaveCount(2);
  await expect(page.getByTestId("topic-body").locator("pre .hl-storage, pre .hl-keyword").first()).toBeVisible();

  const response = await page.goto("/explore?q=likes%3A%3Emany");
  expect(response?.status()).toBe(400);
  await expect(page.getByTestId("query-error")).toContainText("character 8");
  await expect(page.getByTestId("query-error")).toContainText("expected");
  await context.close();
});
