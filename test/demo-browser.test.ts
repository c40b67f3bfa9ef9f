import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, connectUser, mintToken, startServer, waitFor, type TestServer } from "./support/harness.js";

/**
 * The demo app in a real browser (Debian's chromium driven by playwright-core): the embeddable
 * widget on the sample host page (`/demo`) and the agent console (`/`), against a real server on
 * a free port, under the pages' strict CSP. Every wait is a Playwright auto-waiting locator with a
 * deadline; nothing sleeps.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** How long one UI expectation may take: live events arrive in milliseconds, a cold bundle build in ~1 s. */
const UI_TIMEOUT_MS = 10_000;

/** One browser tab with everything that must not happen recorded. */
interface Tab {
  page: Page;
  /** alert/confirm/prompt dialogs that opened (an executed XSS payload would open one). */
  dialogs: string[];
  /** Console reports of resources or code the CSP refused, and uncaught page errors. */
  problems: string[];
}

/** Outside CI a machine without chromium skips this file; in CI (which installs it) a missing one fails. */
const SKIP = !fs.existsSync(CHROMIUM) && !process.env.CI;
if (SKIP) console.warn(`demo browser tests SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

describe.skipIf(SKIP)("demo app in a browser", () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const tabs: Tab[] = [];

  beforeAll(async () => {
    server = await startServer({ env: { DEMO_MODE: "1" } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // launch() gives every run a fresh, temporary user data dir of its own.
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  /** A new browser profile (own localStorage) with one tab at `path` on the server (or at an absolute URL). */
  async function open(path: string, options: { absolute?: boolean } = {}): Promise<Tab> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const tab: Tab = { page, dialogs: [], problems: [] };
    page.on("dialog", (dialog) => {
      tab.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on("console", (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) tab.problems.push(message.text());
    });
    page.on("pageerror", (err) => tab.problems.push(`page error: ${err.message}`));
    tabs.push(tab);
    await page.goto(options.absolute ? path : server.url + path);
    return tab;
  }

  /** The console at `/`, signed in as a demo agent. */
  async function agent(name: "Ada" | "Bob"): Promise<Tab> {
    const tab = await open("/");
    await tab.page.getByRole("button", { name: `Sign in as ${name}` }).click();
    await tab.page.locator("#desk").waitFor();
    await tab.page.locator(".team .agent", { hasText: name }).waitFor();
    return tab;
  }

  const visible = (locator: Locator) => locator.waitFor({ state: "visible" });
  const hidden = (locator: Locator) => locator.waitFor({ state: "hidden" });

  it("a visitor writes in the widget, agents answer live from the console, and receipts, reloads, escaping, resolve and reopen all work", async () => {
    const ada = await agent("Ada");
    const bob = await agent("Bob");
    // Bob watches every conversation, whatever its status.
    await bob.page.locator('#filters button[data-filter="all"]').click();

    const visitor = await open("/demo");
    const widget = visitor.page.locator("#switchboard-widget");
    await widget.locator(".launcher").click();
    await visible(widget.locator(".panel"));
    // Two agents are signed in: the widget says the team is available.
    await visible(widget.locator('.availability[data-online="true"]'));

    // The visitor writes; it is stored and shown.
    const composer = widget.locator("textarea");
    await composer.fill("Hi! Where is my order #1042?");
    await composer.press("Enter");
    await visible(widget.locator(".message.mine:not(.pending) .bubble", { hasText: "Where is my order #1042?" }));

    // Both agents' inboxes show it live, unread.
    const adaEntry = ada.page.locator(".entry", { hasText: "Where is my order #1042?" });
    await visible(adaEntry);
    expect(await adaEntry.locator(".unread-count").textContent()).toBe("1");
    expect(await adaEntry.locator(".pill.assignee").textContent()).toBe("Unassigned");
    const bobEntry = bob.page.locator(".entry", { hasText: "Visitor" });
    await visible(bobEntry.locator(".entry-preview", { hasText: "Where is my order #1042?" }));

    // Ada opens it: the history is there, and reading it sends a receipt the visitor sees.
    await adaEntry.click();
    await visible(ada.page.locator(".thread .message.from-visitor .bubble", { hasText: "Where is my order #1042?" }));
    await visible(ada.page.locator(".conv-presence", { hasText: "Online now" }));
    await visible(widget.locator(".message.mine .receipt", { hasText: "Seen" }));
    await hidden(adaEntry.locator(".unread-count"));

    // Ada types: the visitor sees it; then her answer arrives live.
    const reply = ada.page.locator(".composer textarea");
    await reply.pressSequentially("It ships");
    await visible(widget.locator(".typing", { hasText: "Ada is typing" }));
    await reply.pressSequentially(" tomorrow morning.");
    await reply.press("Enter");
    await visible(widget.locator(".message.theirs .bubble", { hasText: "It ships tomorrow morning." }));
    await hidden(widget.locator(".typing"));
    // The panel is open, so the visitor read it: Ada sees the receipt; Bob's inbox shows the reply.
    await visible(ada.page.locator(".thread .message.from-team .receipt", { hasText: "Seen" }));
    await visible(bobEntry.locator(".entry-preview", { hasText: "Ada: It ships tomorrow morning." }));

    // Markup is shown as text everywhere, and never runs.
    const payload = "<img src=x onerror=alert(1)>";
    await composer.fill(payload);
    await composer.press("Enter");
    const shownToAgent = ada.page.locator(".thread .message.from-visitor .bubble", { hasText: payload });
    await visible(shownToAgent);
    expect(await shownToAgent.textContent()).toBe(payload);
    expect(await widget.locator(".message.mine .bubble", { hasText: payload }).textContent()).toBe(payload);
    await visible(bobEntry.locator(".entry-preview", { hasText: payload }));
    expect(await ada.page.locator(".thread img, .inbox img").count()).toBe(0);
    expect(await bob.page.locator(".inbox img").count()).toBe(0);
    expect(await widget.locator(".messages img").count()).toBe(0);

    // A reload keeps the conversation (the visitor id lives in localStorage).
    await visitor.page.reload();
    await visible(widget.locator(".panel"));
    await visible(widget.locator(".message.mine .bubble", { hasText: "Where is my order #1042?" }));
    await visible(widget.locator(".message.theirs .bubble", { hasText: "It ships tomorrow morning." }));
    await visible(widget.locator(".message.mine .bubble", { hasText: payload }));

    // Ada claims it: Bob's inbox and the widget show who is helping.
    await ada.page.locator(".conv-head select.assign").selectOption("agent-ada");
    await visible(bobEntry.locator(".pill.assignee", { hasText: "Ada" }));
    await visible(widget.locator(".assignee", { hasText: "Ada is helping you" }));

    // Ada resolves it: everyone sees it resolved.
    await ada.page.locator(".status-button", { hasText: "Resolve" }).click();
    await visible(ada.page.locator(".conv-title .pill", { hasText: "Resolved" }));
    await visible(bob.page.locator('.entry[data-status="resolved"]'));
    await visible(widget.locator(".notice", { hasText: "marked resolved" }));
    // Ada's "Open" tab no longer lists it.
    await hidden(ada.page.locator('.entry[data-status="open"]'));

    // A new message from the visitor reopens it, live for both agents.
    await composer.fill("Actually, can I change the address?");
    await composer.press("Enter");
    await visible(ada.page.locator(".conv-title .pill", { hasText: "Open" }));
    await visible(bob.page.locator('.entry[data-status="open"] .entry-preview', { hasText: "change the address" }));
    await hidden(widget.locator(".notice"));
    await visible(ada.page.locator(".thread .message.from-visitor .bubble", { hasText: "change the address" }));

    // Resolve and reopen from the console too.
    await ada.page.locator(".status-button", { hasText: "Resolve" }).click();
    await visible(bob.page.locator('.entry[data-status="resolved"]'));
    await ada.page.locator(".status-button", { hasText: "Reopen" }).click();
    await visible(bob.page.locator('.entry[data-status="open"]'));
    await hidden(widget.locator(".notice"));

    for (const tab of tabs) {
      expect(tab.dialogs, "no dialog opened").toEqual([]);
      expect(tab.problems, "no CSP refusal or page error").toEqual([]);
    }
  }, 120_000);

  it("works from a host page on another origin that the widget key allows, and refuses pages of other origins", async () => {
    const shop = await startHostPage(server.url);
    const elsewhere = await api(server.url, "POST", "/v1/widget-keys", { name: "elsewhere", allowedOrigins: ["https://elsewhere.example.com"] });
    try {
      // Now that the page's port is known, a key for exactly its origin.
      const key = await api(server.url, "POST", "/v1/widget-keys", { name: "shop", allowedOrigins: [shop.origin] });
      shop.setKey(key.body.id);
      const watcher = await connectUser(server.url, "agent-watcher", { token: await mintToken("agent-watcher", { role: "agent" }) });
      const heard: string[] = [];
      watcher.on("support:updated", ({ ticket }) => ticket.lastMessage && heard.push(ticket.lastMessage.text));
      try {
        const visitor = await open(`${shop.origin}/`, { absolute: true });
        const widget = visitor.page.locator("#switchboard-widget");
        await widget.locator(".launcher").click();
        await widget.locator("textarea").fill("Hello from another origin");
        await widget.locator("textarea").press("Enter");
        await visible(widget.locator(".message.mine:not(.pending) .bubble", { hasText: "Hello from another origin" }));
        await waitFor(() => heard.includes("Hello from another origin"), "the agent to hear the cross-origin visitor");
        expect(visitor.problems).toEqual([]);

        // The same page under a key that does not list its origin: no session, and the widget says so.
        shop.setKey(elsewhere.body.id);
        const refused = await open(`${shop.origin}/`, { absolute: true });
        await refused.page.locator("#switchboard-widget .launcher").click();
        await visible(refused.page.locator("#switchboard-widget .notice.error", { hasText: "not available" }));
      } finally {
        watcher.close();
      }
    } finally {
      await shop.close();
    }
  }, 60_000);

  it("serves the widget as one small script: under 40 KB gzipped, client SDK and socket.io-client included", async () => {
    const res = await fetch(`${server.url}/assets/widget.js`, { headers: { "accept-encoding": "identity" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    const { gzipSync } = await import("node:zlib");
    const gzipped = gzipSync(Buffer.from(await res.arrayBuffer()), { level: 9 }).length;
    console.log(`widget.js: ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThan(40 * 1024);
    // Revalidation is cheap: the ETag answers 304.
    const again = await fetch(`${server.url}/assets/widget.js`, { headers: { "if-none-match": res.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });
});

/**
 * A customer's page on an origin of its own (another port, on "localhost" where the chat server is
 * 127.0.0.1), embedding the widget from the chat server with the key last set.
 */
async function startHostPage(serverUrl: string): Promise<{ origin: string; setKey(key: string): void; close(): Promise<void> }> {
  let key = "";
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<script src="${serverUrl}/assets/widget.js" data-widget-key="${key}" async></script></head>
<body><h1>A shop on another origin</h1></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    setKey: (k) => (key = k),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
