// Drive Debian's chromium (playwright-core, executablePath: nothing downloaded) through the item
// board as a person would, inside the test host page. Prints ONE JSON line: what it saw.
//
// Usage: node drive.mjs '<json: {hostUrl, chromium, userDataDir, artifacts, era, edit, conflict, remove}>'
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "..", "..", "views", "board", "package.json"));
const { chromium } = require("playwright-core");

const plan = JSON.parse(process.argv[2]);
const report = { frameRequests: [], cspMessages: [], pageErrors: [], console: [] };

const context = await chromium.launchPersistentContext(plan.userDataDir, {
  executablePath: plan.chromium,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1000, height: 700 },
});
context.setDefaultTimeout(20000);

try {
  const page = context.pages()[0] ?? (await context.newPage());
  // Any request made by a frame other than the host page's own is the view's: there must be none.
  context.on("request", (request) => {
    let frame = null;
    try {
      frame = request.frame();
    } catch {
      frame = null; // service worker requests have no frame
    }
    if (frame !== page.mainFrame()) report.frameRequests.push(`${request.method()} ${request.url()}`);
  });
  page.on("console", (message) => {
    const text = message.text();
    report.console.push(`${message.type()}: ${text}`.slice(0, 300));
    if (/Content Security Policy|Refused to/i.test(text)) report.cspMessages.push(text);
  });
  page.on("pageerror", (error) => report.pageErrors.push(String(error)));

  const query = new URLSearchParams({ era: plan.era, tool: "items_list", args: "{}" });
  await page.goto(`${plan.hostUrl}/?${query}`);
  await page.waitForFunction(() => window.boardHost || window.boardHostError);
  const hostError = await page.evaluate(() => window.boardHostError ?? null);
  if (hostError) throw new Error(`host page failed: ${hostError}`);
  report.hostVersion = await page.evaluate(() => window.boardHost.version);

  const board = page.frameLocator("iframe#board");
  const row = (id) => board.locator(`#list button[data-id="${id}"]`);
  const status = board.locator("#status");
  const meta = board.locator("#meta");
  const field = (name) => board.locator(`#editor [name="${name}"]`);
  // Open an item from the list and wait until the editor shows what the board read (version 1 in every plan).
  const open = async (id) => {
    await row(id).click();
    await meta.filter({ hasText: "version 1" }).waitFor();
  };
  // Save the editor and wait for the status line to say `done`; returns the status line.
  const save = async (done) => {
    await board.locator("#save").click();
    await status.filter({ hasText: done }).waitFor();
    return status.textContent();
  };

  await row(plan.edit.id).waitFor();
  report.listed = await board.locator("#list .title").allTextContents();

  // Filter by tag, then back to all.
  await board.locator('#tags button[data-tag="work"]').click();
  report.filtered = await board.locator("#list .title").allTextContents();
  await board.locator('#tags button[data-tag=""]').click();

  // Open one and edit it: items_update with the version the board read, through the host.
  await open(plan.edit.id);
  report.openedBody = await field("body").inputValue();
  await field("body").fill(plan.edit.newBody);
  report.savedStatus = await save("Saved");

  // A conflicting edit: another agent writes (through the host) after the board read version 1.
  await open(plan.conflict.id);
  const other = await page.evaluate(
    ([id, title]) => window.boardHost.callTool("items_update", { id, expected_version: 1, title }),
    [plan.conflict.id, plan.conflict.theirTitle],
  );
  report.otherAgentVersion = other.structuredContent?.version ?? null;
  await field("title").fill(plan.conflict.boardTitle);
  await board.locator("#save").click();
  await board.locator("#error:not([hidden])").waitFor();
  report.conflictMessage = await board.locator("#error").textContent();
  await page.screenshot({ path: join(plan.artifacts, `board-conflict-${plan.era}.png`), fullPage: true });

  // Add one.
  await board.locator("#new").click();
  await field("title").fill(plan.add.title);
  await field("body").fill(plan.add.body);
  await field("tags").fill(plan.add.tags);
  report.addedStatus = await save("Added");

  // Delete one, with the confirmation.
  await open(plan.remove.id);
  report.confirmShownBeforeDelete = await board.locator("#confirm").isVisible();
  await board.locator("#delete").click();
  await board.locator("#confirm:not([hidden])").waitFor();
  report.confirmText = await board.locator("#confirm-text").textContent();
  await board.locator("#confirm-yes").click();
  await status.filter({ hasText: "Deleted" }).waitFor();
  report.rowsAfterDelete = await board.locator("#list .title").allTextContents();

  await page.screenshot({ path: join(plan.artifacts, `board-${plan.era}.png`), fullPage: true });
  process.stdout.write(`${JSON.stringify(report)}\n`);
} catch (error) {
  process.stderr.write(`drive.mjs failed: ${error?.stack ?? error}\n${JSON.stringify(report, null, 1)}\n`);
  process.exitCode = 1;
} finally {
  await context.close();
}
