/**
 * Takes the README's screenshots of the demo: `docs/widget.png` (the sample host page with the
 * widget open) and `docs/console.png` (the agent console). Starts its own server on a free port
 * with a throwaway data directory and drives Debian's chromium with playwright-core.
 *
 *   npx tsx demo-app/scripts/screenshots.ts        # CHROMIUM_PATH overrides /usr/bin/chromium
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { createApp } from "../../server/src/app.js";
import { loadConfig } from "../../server/src/config.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = path.join(ROOT, "docs");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-screenshots-"));
  const app = await createApp(loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", DEMO_MODE: "1", SQLITE_SYNCHRONOUS: "NORMAL" }));
  await app.listen();
  const base = app.localUrl;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const newPage = async (url: string): Promise<Page> => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(base + url);
      return page;
    };
    const say = async (page: Page, composer: string, text: string) => {
      await page.locator(composer).fill(text);
      await page.locator(composer).press("Enter");
    };

    // Two agents at their consoles.
    const ada = await newPage("/");
    await ada.getByRole("button", { name: "Sign in as Ada" }).click();
    const bob = await newPage("/");
    await bob.getByRole("button", { name: "Sign in as Bob" }).click();

    // An earlier visitor, so the inbox has more than one row.
    const earlier = await newPage("/demo");
    await earlier.locator("#switchboard-widget .launcher").click();
    await say(earlier, "#switchboard-widget textarea", "Can I return a helmet I bought online?");
    await ada.locator(".entry", { hasText: "return a helmet" }).waitFor();

    // The visitor of the screenshots.
    const visitor = await newPage("/demo");
    const widget = "#switchboard-widget";
    await visitor.locator(`${widget} .launcher`).click();
    await say(visitor, `${widget} textarea`, "Hi! Does the Gravel Pro come in a 54 cm frame?");

    const entry = ada.locator(".entry", { hasText: "Gravel Pro" });
    await entry.click();
    await ada.locator(".conv-head select.assign").selectOption("agent-ada");
    await say(ada, ".composer textarea", "Hi! Yes, the 54 cm frame is in stock. Shall I reserve one for you?");
    await visitor.locator(`${widget} .message.theirs`, { hasText: "in stock" }).waitFor();
    await say(visitor, `${widget} textarea`, "Yes please, I can pick it up on Saturday.");
    await ada.locator(".thread .message.from-visitor", { hasText: "Saturday" }).waitFor();
    await say(ada, ".composer textarea", "Done: it is reserved in your name until Saturday evening.");
    await visitor.locator(`${widget} .message.theirs`, { hasText: "reserved" }).waitFor();
    await ada.locator(".thread .message.from-team .receipt").waitFor();
    // Ada starts another reply: the widget shows her typing.
    await ada.locator(".composer textarea").pressSequentially("Anything else");
    await visitor.locator(`${widget} .typing`, { hasText: "Ada is typing" }).waitFor();

    fs.mkdirSync(OUT, { recursive: true });
    await visitor.screenshot({ path: path.join(OUT, "widget.png") });
    await ada.screenshot({ path: path.join(OUT, "console.png") });
    console.log(`wrote ${path.join(OUT, "widget.png")} and ${path.join(OUT, "console.png")}`);
  } finally {
    await browser.close();
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
