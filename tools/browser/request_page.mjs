// The public request page in headless Chromium, as a firm uses it: fill the form by its labels,
// send it with mistakes, read the errors, fix them with the keyboard, send it again.
//
//   node request_page.mjs <request page URL> <SIREN> <screenshot path> [chromium path]
//
// Prints what it saw as JSON: the errors after the first try (field ids, the summary's links,
// the fields marked invalid), the page's heading after the second, and any console error.
import { chromium } from "playwright-core";

const [pageUrl, siren, screenshot, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const result = { consoleErrors: [] };
try {
  const page = await (await browser.newContext({ viewport: { width: 1000, height: 1200 } }))
    .newPage();
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const where = message.location().url || "";
    // the form sent with mistakes answers 400 on purpose: not an error of the page
    if (where === new URL("/firm/request", pageUrl).href && /status of 400/.test(message.text())) {
      return;
    }
    result.consoleErrors.push(message.text() + " " + where);
  });
  page.on("pageerror", (error) => result.consoleErrors.push(String(error)));
  await page.goto(pageUrl);
  result.scripts = await page.evaluate(() => document.scripts.length);
  // every field is reached by its label: a screen reader names it the same way
  await page.getByLabel("Numéro SIREN ou SIRET").fill("123 456 789");
  await page.getByLabel("Nom de l'entreprise").fill("Savonnerie du Vieux Port");
  await page.getByLabel("Région").selectOption({ label: "Provence-Alpes-Côte d'Azur" });
  await page.getByLabel("Nom et prénom").fill("Inès Ferrand");
  await page.getByLabel("Adresse électronique").fill("ines@savonnerie.example");
  await page.getByLabel(/tenu informé par courriel/).check();
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", {
    name: "Envoyer ma demande" }).click()]);
  await page.waitForSelector(".summary");
  result.errors = await page.locator(".error").evaluateAll((found) => found.map((e) => e.id));
  result.summaryLinks = await page.locator(".summary a").evaluateAll(
    (found) => found.map((a) => a.getAttribute("href")));
  result.invalid = await page.locator("[aria-invalid=true]").evaluateAll(
    (found) => found.map((e) => e.id));
  result.kept = await page.getByLabel("Nom de l'entreprise").inputValue();
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-errors.png"), fullPage: true });
  // fixed from the keyboard: the number typed again, a need ticked with the space bar
  await page.getByLabel("Numéro SIREN ou SIRET").fill(siren);
  await page.getByLabel("Exporter pour la première fois").focus();
  await page.keyboard.press("Space");
  await page.getByLabel("Numéro SIREN ou SIRET").focus();
  await Promise.all([page.waitForLoadState("load"), page.keyboard.press("Enter")]);
  await page.waitForSelector("h1:has-text('Merci')");
  result.heading = await page.locator("h1").textContent();
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
