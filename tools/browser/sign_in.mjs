// A person signs in to a service's page through the network's issuer, in headless Chromium.
//
//   node sign_in.mjs <page URL> <person id> [chromium path]
//
// Opens the page, expects to land on the issuer's sign-in page, chooses the person, and
// prints as JSON where it ended, what the page says and the session cookie's flags; then
// signs out and checks that the page asks to sign in again.
import { chromium } from "playwright-core";

const [pageUrl, person, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const result = {};
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(pageUrl);
  result.signInTitle = await page.title();
  result.signInUrl = page.url();
  // keyboard only: the person's button is focused and pressed; back on the service's page
  const service = new URL(pageUrl).origin;
  await page.locator(`button[value="${person}"]`).focus();
  await Promise.all([
    page.waitForURL((url) => url.origin === service && url.pathname !== "/auth/callback"),
    page.keyboard.press("Enter"),
  ]);
  result.landedOn = page.url();
  result.heading = await page.locator("h1").first().textContent();
  const text = async (selector) =>
    (await page.locator(selector).count()) ? page.locator(selector).textContent() : null;
  result.signedInAs = await text("#person");
  result.partner = await text("#partner");
  result.funnelRows = await page.locator("#funnel tbody tr").count();
  const session = (await context.cookies()).find((c) => c.name === "parcours_session");
  result.cookie = session ? { httpOnly: session.httpOnly, sameSite: session.sameSite } : null;
  result.scriptSeesCookie = await page.evaluate(() => document.cookie.includes("parcours_session"));
  await page.goto(new URL("/logout", pageUrl).href);
  await page.goto(pageUrl);
  result.afterSignOut = page.url();
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
