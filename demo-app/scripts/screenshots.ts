/**
 * Takes the README's screenshots of the demo: `docs/widget.png` (the sample host page with the
 * widget open: a pasted picture with its thumbnail, a reaction, a quoted reply) and
 * `docs/console.png` (the agent console with a thread panel open). Starts its own server on a
 * free port with a throwaway data directory and drives Debian's chromium with playwright-core.
 *
 *   npx tsx demo-app/scripts/screenshots.ts        # CHROMIUM_PATH overrides /usr/bin/chromium
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Locator, type Page } from "playwright-core";
import sharp from "sharp";
import { createApp } from "../../server/src/app.js";
import { loadConfig } from "../../server/src/config.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT = path.join(ROOT, "docs");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-screenshots-"));
  // Download links are made on PUBLIC_URL and the demo CSP shows pictures from 'self' only, so
  // the port is chosen first and PUBLIC_URL names it.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = await createApp(
    loadConfig({ DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", PUBLIC_URL: base, LOG_LEVEL: "warn", DEMO_MODE: "1", SQLITE_SYNCHRONOUS: "NORMAL" }),
  );
  await app.listen();
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
    // The visitor pastes a photo of the bike they mean, with a line of text.
    await visitor.locator(`${widget} textarea`).fill("This one, in green. I can pick it up on Saturday.");
    await pasteImage(visitor.locator(`${widget} textarea`), await bikePhoto(), "gravel-pro.png");
    await visitor.locator(`${widget} .chip.uploaded`).waitFor();
    await visitor.locator(`${widget} textarea`).press("Enter");
    const photo = ada.locator(".thread .message.from-visitor", { has: ada.locator(".attachment-image") });
    await photo.locator("img").waitFor();
    await photo.locator("img").evaluate((img: HTMLImageElement) => img.decode());
    // Ada reacts to it and answers quoting it.
    await photo.hover();
    await photo.getByRole("button", { name: "Add a reaction" }).click();
    await photo.getByRole("button", { name: "React with 🎉" }).click();
    await photo.locator(".reaction").waitFor();
    await photo.getByRole("button", { name: "Reply with a quote" }).click();
    await say(ada, ".conv-main .composer textarea", "Great choice! The green one is reserved in your name until Saturday evening.");
    await visitor.locator(`${widget} .message.theirs .quote`).waitFor();
    await visitor.locator(`${widget} .message.mine .reaction`).waitFor();
    await visitor.locator(`${widget} .message.mine img`).evaluate((img: HTMLImageElement) => img.decode());
    await ada.locator(".thread .message.from-team .receipt").waitFor();
    await visitor.mouse.move(5, 5);
    fs.mkdirSync(OUT, { recursive: true });
    await visitor.screenshot({ path: path.join(OUT, "widget.png") });

    // Ada notes the stock check in a thread under the visitor's question, for the team.
    const question = ada.locator(".thread .message.from-visitor", { hasText: "Gravel Pro" });
    await question.hover();
    await question.getByRole("button", { name: "Reply in thread" }).click();
    await say(ada, ".thread-panel textarea", "Stock check: two 54 cm frames left in green, one in grey.");
    await ada.locator(".thread-panel .thread-replies .message", { hasText: "Stock check" }).waitFor();
    await question.locator(".thread-link", { hasText: "1 reply" }).waitFor();
    // The pointer away from the messages, so no hover actions show.
    await ada.mouse.move(5, 5);
    await ada.screenshot({ path: path.join(OUT, "console.png") });
    console.log(`wrote ${path.join(OUT, "widget.png")} and ${path.join(OUT, "console.png")}`);
  } finally {
    await browser.close();
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A free port on 127.0.0.1 (taken again right away by the server). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A drawn stand-in for a photo of a green gravel bike. */
function bikePhoto(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
  <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#9cc9f0"/><stop offset="1" stop-color="#e8f3fb"/></linearGradient></defs>
  <rect width="800" height="600" fill="url(#sky)"/><circle cx="650" cy="120" r="55" fill="#ffd166"/>
  <path d="M0 430 Q200 340 420 420 T800 400 V600 H0z" fill="#7fb069"/><rect y="500" width="800" height="100" fill="#b08968"/>
  <g fill="none" stroke="#1f2330" stroke-width="14"><circle cx="250" cy="430" r="95"/><circle cx="560" cy="430" r="95"/></g>
  <g fill="none" stroke="#2d6a4f" stroke-width="16" stroke-linecap="round" stroke-linejoin="round"><path d="M250 430 L350 280 L520 280 L560 430 M350 280 L410 430 L520 280 M410 430 L250 430"/><path d="M340 250 L370 250 M520 280 L505 230 L545 225"/></g>
</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Pastes a PNG into the composer as a real paste event with a File, as a browser does for a copied image. */
async function pasteImage(composer: Locator, png: Buffer, name: string): Promise<void> {
  await composer.evaluate(
    (element, { base64, name }) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], name, { type: "image/png" }));
      element.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true, composed: true }));
    },
    { base64: png.toString("base64"), name },
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
