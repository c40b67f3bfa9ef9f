import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startProxy, startServer, waitFor, type NetworkProxy, type TestServer } from "./support/harness.js";

/**
 * Rich messages in the demo app, in a real browser (Debian's chromium via playwright-core) under
 * the pages' strict CSP: a visitor pastes a picture into the widget, the agent sees its
 * thumbnail, opens the original, reacts and answers with a quote, and opens a thread. Every wait
 * is an auto-waiting locator or a polled condition with a deadline; nothing sleeps.
 *
 * Download links are made on PUBLIC_URL, so the browser must reach the server at exactly that
 * origin (the demo CSP allows pictures from 'self' only): the server sits behind a TCP proxy on
 * a free port, and PUBLIC_URL names the proxy.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const UI_TIMEOUT_MS = 10_000;
/** Small, so a test file can exceed it. */
const UPLOAD_MAX_BYTES = 256 * 1024;

interface Tab {
  page: Page;
  /** Console reports of what the CSP refused, and uncaught page errors. */
  problems: string[];
}

const SKIP = !fs.existsSync(CHROMIUM) && !process.env.CI;
if (SKIP) console.warn(`rich message browser tests SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

/** A 480×360 PNG of coloured stripes, and its pixels. */
async function stripedPng(): Promise<{ png: Buffer; pixels: Buffer }> {
  const width = 480;
  const height = 360;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const band = Math.floor(x / 60) % 3;
      raw[i] = band === 0 ? 220 : 30;
      raw[i + 1] = band === 1 ? 180 : 40;
      raw[i + 2] = band === 2 ? 200 : Math.floor((y / height) * 255);
    }
  }
  const png = await sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { png, pixels: raw };
}

/** Dispatches a real paste event carrying `file` (bytes as base64) on the element. */
async function pasteFile(target: Locator, file: { base64: string; name: string; type: string }): Promise<void> {
  await target.evaluate((element, { base64, name, type }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, { type }));
    element.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true, composed: true }));
  }, file);
}

/** True once the picture has loaded (a broken or blocked image has naturalWidth 0). */
const loaded = (img: Locator) => waitFor(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0), "the picture to load");

describe.skipIf(SKIP)("rich messages in the demo app, in a browser", () => {
  let server: TestServer;
  let proxy: NetworkProxy;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const tabs: Tab[] = [];

  beforeAll(async () => {
    // The proxy's port is known first, so PUBLIC_URL can name it; then it is pointed at the server.
    proxy = await startProxy(1);
    base = proxy.url;
    server = await startServer({ env: { DEMO_MODE: "1", PUBLIC_URL: base, UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES) } });
    proxy.retarget(Number(new URL(server.url).port));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await proxy?.close();
  });

  async function open(url: string): Promise<Tab> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const tab: Tab = { page, problems: [] };
    page.on("console", (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) tab.problems.push(message.text());
    });
    page.on("pageerror", (err) => tab.problems.push(`page error: ${err.message}`));
    tabs.push(tab);
    await page.goto(url);
    return tab;
  }

  const visible = (locator: Locator) => locator.waitFor({ state: "visible" });
  const hidden = (locator: Locator) => locator.waitFor({ state: "hidden" });

  it("a pasted picture reaches the agent as a loaded thumbnail linking to the original, and reactions, quoted replies and a thread go both ways live", async () => {
    const ada = await open(`${base}/`);
    await ada.page.getByRole("button", { name: "Sign in as Ada" }).click();
    await ada.page.locator(".team .agent", { hasText: "Ada" }).waitFor();

    const visitor = await open(`${base}/demo`);
    const widget = visitor.page.locator("#switchboard-widget");
    await widget.locator(".launcher").click();
    const composer = widget.locator("textarea");
    await composer.fill("Hello, my order arrived damaged.");
    await composer.press("Enter");
    await visible(widget.locator(".message.mine:not(.pending) .bubble", { hasText: "arrived damaged" }));

    // A file of a type the server refuses, then one over UPLOAD_MAX_BYTES: readable lines, no chip left.
    await pasteFile(composer, { base64: Buffer.from([0, 1, 2, 3, 0, 255, 0, 7]).toString("base64"), name: "tool.bin", type: "application/octet-stream" });
    await visible(widget.locator(".attach-error", { hasText: "tool.bin cannot be sent" }));
    await pasteFile(composer, { base64: Buffer.alloc(UPLOAD_MAX_BYTES + 1024, 7).toString("base64"), name: "huge.txt", type: "text/plain" });
    await visible(widget.locator(".attach-error", { hasText: "huge.txt is too large to send" }));
    expect(await widget.locator(".chip").count()).toBe(0);

    // The visitor pastes a picture: a chip with its upload, then it is sent alone (no text).
    const { png, pixels } = await stripedPng();
    await pasteFile(composer, { base64: png.toString("base64"), name: "damaged-box.png", type: "image/png" });
    await visible(widget.locator(".chip.uploaded", { hasText: "damaged-box.png" }));
    await hidden(widget.locator(".attach-error"));
    await composer.press("Enter");
    await hidden(widget.locator(".chip"));
    const visitorPicture = widget.locator(".message.mine:not(.pending)", { has: visitor.page.locator(".attachment-image") });
    await visible(visitorPicture);
    // A picture-only message has no empty bubble.
    expect(await visitorPicture.locator(".bubble").count()).toBe(0);
    await loaded(visitorPicture.locator("img"));

    // The agent opens the conversation: the inbox says "Photo", the thumbnail loads.
    const entry = ada.page.locator(".entry", { hasText: "📎 Photo" });
    await entry.click();
    const agentPicture = ada.page.locator(".thread .message.from-visitor", { has: ada.page.locator(".attachment-image") });
    const thumbnail = agentPicture.locator(".attachment-image img");
    await visible(thumbnail);
    await loaded(thumbnail);
    // width/height reserve the thumbnail's box (320 px on the long side of a 480×360 picture).
    expect(await thumbnail.getAttribute("width")).toBe("320");
    expect(await thumbnail.getAttribute("height")).toBe("240");
    expect(await thumbnail.getAttribute("alt")).toBe("damaged-box.png");

    // The link opens the original in a new tab; its URL serves the picture's pixels exactly.
    const link = agentPicture.locator("a.attachment-image");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toBe("noopener");
    const href = (await link.getAttribute("href"))!;
    expect(href.startsWith(`${base}/v1/uploads/`)).toBe(true);
    const [popup] = await Promise.all([ada.page.context().waitForEvent("page"), link.click()]);
    await popup.waitForLoadState();
    expect(popup.url()).toBe(href);
    await popup.close();
    const original = await fetch(href);
    expect(original.status).toBe(200);
    expect(original.headers.get("content-type")).toBe("image/png");
    const served = await sharp(Buffer.from(await original.arrayBuffer())).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(served.info).toMatchObject({ width: 480, height: 360, channels: 3 });
    expect(served.data.equals(pixels)).toBe(true);

    // The agent reacts with 👍 through the "+" quick picks.
    await agentPicture.hover();
    await agentPicture.getByRole("button", { name: "Add a reaction" }).click();
    await agentPicture.getByRole("button", { name: "React with 👍" }).click();
    const agentChip = ada.page.locator(".thread .message.from-visitor .reaction[data-emoji='👍']");
    await visible(agentChip.locator(".reaction-count", { hasText: "1" }));
    expect(await agentChip.getAttribute("aria-pressed")).toBe("true");

    // ... and answers with a quote of the picture.
    await agentPicture.hover();
    await agentPicture.getByRole("button", { name: "Reply with a quote" }).click();
    await visible(ada.page.locator(".reply-target", { hasText: "Replying to Visitor" }));
    await ada.page.locator(".conv-main .composer textarea").fill("Sorry about that! A replacement ships today.");
    await ada.page.locator(".conv-main .composer textarea").press("Enter");
    await hidden(ada.page.locator(".reply-target"));
    await visible(ada.page.locator(".thread .message.from-team .quote", { hasText: "📎 Attachment" }));

    // The visitor sees the reaction's count (not theirs) and the quoted reply, live.
    const visitorChip = widget.locator(".message.mine .reaction[data-emoji='👍']");
    await visible(visitorChip.locator(".reaction-count", { hasText: "1" }));
    expect(await visitorChip.getAttribute("aria-pressed")).toBe("false");
    const answer = widget.locator(".message.theirs", { hasText: "A replacement ships today." });
    await visible(answer.locator(".quote .quote-sender", { hasText: "You" }));
    await visible(answer.locator(".quote .quote-excerpt", { hasText: "📎 Attachment" }));
    // Clicking the quote brings the quoted picture into view (it flashes).
    await answer.locator(".quote").click();
    await waitFor(() => visitorPicture.evaluate((el) => el.classList.contains("flash")), "the quoted message to be shown");

    // The visitor adds their own 👍 by clicking the chip, then takes it back: the agent sees both.
    await visitorChip.click();
    await visible(agentChip.locator(".reaction-count", { hasText: "2" }));
    expect(await visitorChip.getAttribute("aria-pressed")).toBe("true");
    await visitorChip.click();
    await visible(agentChip.locator(".reaction-count", { hasText: "1" }));

    // A thread in the console: reply in thread under the visitor's first message.
    const first = ada.page.locator(".thread .message.from-visitor", { hasText: "arrived damaged" });
    await first.hover();
    await first.getByRole("button", { name: "Reply in thread" }).click();
    const panel = ada.page.locator(".thread-panel");
    await visible(panel.locator(".thread-parent", { hasText: "arrived damaged" }));
    await visible(panel.locator(".thread-count", { hasText: "No replies yet" }));
    await panel.locator("textarea").fill("Logged as damage case #77.");
    await panel.locator("textarea").press("Enter");
    await visible(panel.locator(".thread-replies .message", { hasText: "damage case #77" }));
    await visible(panel.locator(".thread-count", { hasText: "1 reply" }));
    // The parent's count moves in the main list; the reply itself stays out of it.
    await visible(first.locator(".thread-link", { hasText: "1 reply" }));
    expect(await ada.page.locator(".thread .message", { hasText: "damage case #77" }).count()).toBe(0);
    // The widget shows it inline, marked as a thread reply.
    await visible(widget.locator(".message.theirs", { hasText: "damage case #77" }).locator(".in-thread"));

    // Closing and reopening the thread from "1 reply" loads it from thread history.
    await panel.getByRole("button", { name: "Close the thread" }).click();
    await hidden(panel);
    await first.locator(".thread-link").click();
    await visible(ada.page.locator(".thread-panel .thread-replies .message", { hasText: "damage case #77" }));

    for (const tab of tabs) expect(tab.problems, "no CSP refusal or page error").toEqual([]);
  }, 120_000);

  it("uploads and shows a pasted picture from a host page on another origin that the widget key allows", async () => {
    let key = "";
    const host = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<script src="${base}/assets/widget.js" data-widget-key="${key}" async></script></head><body><h1>Shop</h1></body></html>`);
    });
    await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
    try {
      const origin = `http://localhost:${(host.address() as AddressInfo).port}`;
      key = (await api(server.url, "POST", "/v1/widget-keys", { name: "shop", allowedOrigins: [origin] })).body.id;
      const visitor = await open(`${origin}/`);
      const widget = visitor.page.locator("#switchboard-widget");
      await widget.locator(".launcher").click();
      const { png } = await stripedPng();
      await pasteFile(widget.locator("textarea"), { base64: png.toString("base64"), name: "receipt.png", type: "image/png" });
      await visible(widget.locator(".chip.uploaded", { hasText: "receipt.png" }));
      await widget.locator("textarea").press("Enter");
      const img = widget.locator(".message.mine:not(.pending) .attachment-image img");
      await visible(img);
      await loaded(img);
      expect(visitor.problems).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => host.close(() => resolve()));
    }
  }, 60_000);
});
