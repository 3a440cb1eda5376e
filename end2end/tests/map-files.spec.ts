import { expect, test } from "@playwright/test";
import { openHydrated, signUp, uniqueName, watchConsole } from "./helpers";

const OUTLINE = `# Operating systems

What a kernel does.

## Processes

### Scheduling

Round robin and friends.

## Memory

## Files
`;

test("an author imports a map from a pasted outline, downloads it, restores a deleted topic and rolls the import back", async ({
  page,
}) => {
  const problems = watchConsole(page);
  await openHydrated(page, "/signup");
  await signUp(page, uniqueName("porter"));
  await expect(page).toHaveURL("/");
  await openHydrated(page, "/new");
  await page.getByLabel("Title").fill("Kernel notes");
  await page.getByTestId("create-subject").click();
  await expect(page).toHaveURL(/\/s\/kernel-notes/);
  const slug = new URL(page.url()).pathname.split("/")[2];

  // A bad file is refused with its line, and nothing changes.
  await openHydrated(page, `/s/${slug}/settings`);
  await page.getByLabel("File name").fill("notes.md");
  await page.getByTestId("import-content").fill("Just prose, no outline.");
  await page.getByTestId("import-submit").click();
  await expect(page.getByTestId("import-error")).toContainText("line 1");
  // The page came back with the error and, once hydrated, with what was typed.
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByLabel("File name")).toHaveValue("notes.md");
  await expect(page.getByTestId("import-content")).toHaveValue("Just prose, no outline.");

  // A good one replaces the topics; the map and the outline show it.
  await page.getByTestId("import-content").fill(OUTLINE);
  await page.getByTestId("import-submit").click();
  await expect(page).toHaveURL(`/s/${slug}`);
  await expect(page.getByTestId("subject-title")).toHaveText("Kernel notes");
  const outline = page.getByTestId("outline");
  for (const title of ["Operating systems", "Processes", "Scheduling", "Memory", "Files"]) {
    await expect(outline.getByRole("treeitem", { name: title, exact: true })).toBeVisible();
  }
  await expect(page.getByTestId("map").locator("svg a")).toHaveCount(5);

  // Downloads are plain links to files made on the server.
  const json = await page.request.get(`/api/v1/subjects/${slug}/export?format=json`);
  expect(json.status()).toBe(200);
  expect((await json.json()).children.map((c: { title: string }) => c.title)).toEqual([
    "Processes",
    "Memory",
    "Files",
  ]);
  const download = page.waitForEvent("download");
  await page.getByTestId("downloads").getByRole("link", { name: "PNG" }).click();
  expect((await download).suggestedFilename()).toBe(`${slug}.png`);

  // A deleted topic waits in the trash and comes back with its subtree.
  await outline.getByRole("treeitem", { name: "Processes", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Processes");
  await openHydrated(page, `${new URL(page.url()).pathname}/edit`);
  await page.getByTestId("confirm-delete-topic").check();
  await page.getByTestId("delete-topic").click();
  await expect(page).toHaveURL(`/s/${slug}`);
  await expect(outline.getByRole("treeitem", { name: "Scheduling", exact: true })).toHaveCount(0);
  await openHydrated(page, `/s/${slug}/settings`);
  const trash = page.getByTestId("trash");
  await expect(trash).toContainText("Processes (2 topics)");
  await trash.getByTestId("restore").click();
  await expect(trash).toBeEmpty();
  await openHydrated(page, `/s/${slug}`);
  await expect(outline.getByRole("treeitem", { name: "Scheduling", exact: true })).toBeVisible();

  // The history keeps the file; rolling back brings the empty subject back.
  await openHydrated(page, `/s/${slug}/settings`);
  const imports = page.getByTestId("imports");
  await expect(imports.getByRole("link", { name: "notes.md" })).toBeVisible();
  await imports.getByTestId("rollback").click();
  await expect(imports).toContainText("rolled back");
  await openHydrated(page, `/s/${slug}`);
  await expect(outline.getByRole("treeitem")).toHaveCount(1);
  await expect(outline.getByRole("treeitem", { name: "Kernel notes" })).toBeVisible();
  // The refused file's 422 is the only failed request the browser reports.
  expect(problems.filter((p) => !p.includes("status of 422"))).toEqual([]);
});

test("files from outliners come in through the file picker: a Workflowy OPML, a title over a bulleted list, a plain-text outline", async ({
  page,
}) => {
  const problems = watchConsole(page);
  await openHydrated(page, "/signup");
  await signUp(page, uniqueName("picker"));
  await expect(page).toHaveURL("/");
  await openHydrated(page, "/new");
  await page.getByLabel("Title").fill("Picked files");
  await page.getByTestId("create-subject").click();
  await expect(page).toHaveURL(/\/s\/picked-files/);
  const slug = new URL(page.url()).pathname.split("/")[2];
  const outline = page.getByTestId("outline");
  const files = [
    {
      // As Workflowy exports OPML.
      name: "workflowy.opml",
      mimeType: "text/x-opml",
      text: `<?xml version="1.0"?>
<opml version="2.0"><head><ownerEmail>someone@example.com</ownerEmail></head><body>
<outline text="Garden"><outline text="Tomatoes" _note="Water daily"/><outline text="Beans"/></outline>
<outline text="Kitchen"/>
</body></opml>`,
      topics: ["Garden", "Tomatoes", "Beans", "Kitchen"],
    },
    {
      // A title over a nested list: once imported as "0 topics".
      name: "learning.md",
      mimeType: "text/markdown",
      text: "# Learning Rust\n\n- Basics\n  - Ownership\n  - Borrowing\n- Async\n",
      topics: ["Learning Rust", "Basics", "Ownership", "Borrowing", "Async"],
    },
    {
      // Dynalist's or Workflowy's plain text.
      name: "trip.txt",
      mimeType: "text/plain",
      text: "Trip\n\tPacking\n\t\tPassport\n\tRoute\nHome\n",
      topics: ["Trip", "Packing", "Passport", "Route", "Home"],
    },
  ];
  for (const file of files) {
    await openHydrated(page, `/s/${slug}/settings`);
    await page.getByTestId("import-file").setInputFiles({
      name: file.name,
      mimeType: file.mimeType,
      buffer: Buffer.from(file.text),
    });
    await expect(page.getByLabel("File name")).toHaveValue(file.name);
    await expect(page.getByTestId("import-content")).toHaveValue(file.text);
    await page.getByTestId("import-submit").click();
    await expect(page).toHaveURL(`/s/${slug}`);
    for (const title of file.topics) {
      await expect(outline.getByRole("treeitem", { name: title, exact: true })).toBeVisible();
    }
  }
  // A title alone would empty the map: refused, and said why.
  await openHydrated(page, `/s/${slug}/settings`);
  await page.getByTestId("import-file").setInputFiles({
    name: "empty.md",
    mimeType: "text/markdown",
    buffer: Buffer.from("# Nothing under me\n"),
  });
  await expect(page.getByLabel("File name")).toHaveValue("empty.md");
  await page.getByTestId("import-submit").click();
  await expect(page.getByTestId("import-error")).toContainText("no topics");
  expect(problems).toEqual([]);
});

test("a new subject starts from a file: its title from the file, its topics the file's", async ({ page }) => {
  const problems = watchConsole(page);
  await openHydrated(page, "/signup");
  await signUp(page, uniqueName("fromfile"));
  await expect(page).toHaveURL("/");
  await openHydrated(page, "/new");
  // A bad file changes nothing: no subject is made.
  await page.getByTestId("new-file-file").setInputFiles({
    name: "empty.md",
    mimeType: "text/markdown",
    buffer: Buffer.from("# Nothing under me\n"),
  });
  await page.getByTestId("create-from-file").click();
  await expect(page.getByTestId("new-file-error")).toContainText("no topics");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByTestId("new-file-file").setInputFiles({
    name: "rust.md",
    mimeType: "text/markdown",
    buffer: Buffer.from("# Learning Rust\n\n- Basics\n  - Ownership\n- Async\n"),
  });
  await expect(page.getByTestId("new-file-content")).toHaveValue(/Learning Rust/);
  await page.getByTestId("create-from-file").click();
  await expect(page).toHaveURL(/\/s\/learning-rust/);
  await expect(page.getByTestId("subject-title")).toHaveText("Learning Rust");
  const outline = page.getByTestId("outline");
  for (const title of ["Basics", "Ownership", "Async"]) {
    await expect(outline.getByRole("treeitem", { name: title, exact: true })).toBeVisible();
  }
  // A Workflowy OPML without a title: the subject is named after the file.
  await openHydrated(page, "/new");
  await page.getByTestId("new-file-file").setInputFiles({
    name: "Garden plan.opml",
    mimeType: "text/x-opml",
    buffer: Buffer.from(
      `<?xml version="1.0"?><opml version="2.0"><head><ownerEmail>a@example.com</ownerEmail></head><body>` +
        `<outline text="Beds"><outline text="Tomatoes" _note="Water daily"/></outline><outline text="Tools"/></body></opml>`,
    ),
  });
  await page.getByTestId("create-from-file").click();
  await expect(page).toHaveURL(/\/s\/garden-plan/);
  await expect(page.getByTestId("subject-title")).toHaveText("Garden plan");
  for (const title of ["Beds", "Tomatoes", "Tools"]) {
    await expect(outline.getByRole("treeitem", { name: title, exact: true })).toBeVisible();
  }
  expect(problems).toEqual([]);
});
