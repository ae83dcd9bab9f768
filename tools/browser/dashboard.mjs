// The dashboard in headless Chromium: a person signs in, the page is read, then it must
// update by itself after the test publishes an event.
//
//   node dashboard.mjs <dashboard URL> <person id> <screenshot path> [chromium path]
//
// Prints a line {"ready": <cases opened as the page shows them>} once the page is read, then
// waits for a line on its standard input (the test has published a new case), waits for the
// page to show one case more, takes the screenshot and prints what it saw as JSON.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const [pageUrl, person, screenshot, executablePath = "/usr/bin/chromium"] =
  process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const result = { consoleErrors: [] };
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 1400 } }))
    .newPage();
  // the service's own pages only (the issuer's sign-in page is not under test here)
  const service = new URL(pageUrl).origin;
  const ours = (url) => { try { return new URL(url).origin === service; } catch { return false; } };
  page.on("console", (message) => {
    if (message.type() === "error" && ours(message.location().url || page.url())) {
      result.consoleErrors.push(message.text() + " " + (message.location().url || ""));
    }
  });
  page.on("pageerror", (error) => result.consoleErrors.push(String(error)));
  await page.goto(pageUrl);
  await Promise.all([
    page.waitForURL((url) => url.origin === service && url.pathname === "/dashboard"),
    page.locator(`button[value="${person}"]`).click(),
  ]);
  const opened = async () =>
    Number(await page.locator('#funnel tr[data-stage="opened"] .cases').textContent());
  result.heading = await page.locator("h1").first().textContent();
  result.openedBefore = await opened();
  result.objectives = await page.locator("#objectives tbody tr").allTextContents();
  result.attention = await page.locator("#attention").textContent();
  result.charts = await page.evaluate(() =>
    [...document.querySelectorAll("canvas")].filter((c) => c.width > 0).length);
  console.log(JSON.stringify({ ready: result.openedBefore }));
  const input = createInterface({ input: process.stdin });
  for await (const line of input) { if (line.trim() === "published") break; }
  await page.waitForFunction(
    (before) => Number(document.querySelector('#funnel tr[data-stage="opened"] .cases')
      .textContent) > before, result.openedBefore, { timeout: 30000 });
  result.openedAfter = await opened();
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
