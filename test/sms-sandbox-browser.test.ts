import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import { api, call, connectUser, ROOT, startServer, TEST_ADMIN_KEY, waitFor, type TestServer } from "./support/harness.js";

/**
 * The SMS sandbox page (the default `SMS_PROVIDER`) in a real browser: a developer sees the text
 * an offline user was sent and answers as that phone, and the answer lands in the conversation.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SKIP = !fs.existsSync(CHROMIUM) && !process.env.CI;
if (SKIP) console.warn(`SMS sandbox browser tests SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const PHONE = "+15550004444";

describe.skipIf(SKIP)("SMS sandbox page in a browser", () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ env: { SMS_DELAY_SECONDS: "0", DELIVERY_POLL_INTERVAL_MS: "50" } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows the text sent to an offline user and posts the answer typed as that phone into the conversation", async () => {
    const { url } = server;
    await api(url, "POST", "/v1/users", { id: "agent", name: "Agent Ada", role: "agent" });
    await api(url, "POST", "/v1/users", { id: "dana", name: "Dana", phone: PHONE });
    await api(url, "POST", "/v1/users/dana/sms-consent", { granted: true, note: "sandbox test" });
    await api(url, "POST", "/v1/conversations", { id: "sandbox-1", type: "direct", memberIds: ["agent", "dana"] });
    const agent = await connectUser(url, "agent");
    try {
      await call(agent, "conversation:join", { conversationId: "sandbox-1" });
      const live: Message[] = [];
      agent.on("message:new", (m: Message) => live.push(m));
      await api(url, "POST", "/v1/conversations/sandbox-1/messages", { senderId: "agent", text: "Your order has shipped 📦" });

      const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on("pageerror", (err) => problems.push(err.message));
      // What the CSP refused (the page runs under script-src 'self', no inline code).
      page.on("console", (m) => /Content.Security.Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
      await page.goto(`${url}/sandbox/sms`);
      await page.fill("#key", TEST_ADMIN_KEY);
      await page.locator("#key-form button[type=submit]").click();
      // The outbound text, with its encoding visible to the developer.
      await page.locator("#threads", { hasText: "Your order has shipped 📦" }).waitFor();
      await expect.poll(() => page.locator("#threads").innerText()).toContain(PHONE);

      await page.fill("#reply-from", PHONE);
      await page.fill("#reply-body", "Great, thanks!");
      await page.locator("#reply-form button[type=submit]").click();
      const reply = await waitFor(() => live.find((m) => m.senderId === "dana"), "the phone user's answer to reach the agent live");
      expect(reply.text).toBe("Great, thanks!");
      await page.locator("#threads", { hasText: "Great, thanks!" }).waitFor();
      if (process.env.SCREENSHOTS) await page.screenshot({ path: path.join(ROOT, "docs/sms-sandbox.png"), fullPage: true });
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      agent.close();
    }
  }, 60_000);

  it("shows the pictures of an MMS sent to an offline user and sends a picture chosen as that phone", async () => {
    const { url } = server;
    const phone = "+15550005555";
    await api(url, "POST", "/v1/users", { id: "agent2", name: "Agent Bo", role: "agent" });
    await api(url, "POST", "/v1/users", { id: "erin", name: "Erin", phone });
    await api(url, "POST", "/v1/users/erin/sms-consent", { granted: true, note: "sandbox test" });
    await api(url, "POST", "/v1/conversations", { id: "sandbox-2", type: "direct", memberIds: ["agent2", "erin"] });
    const picture = await sharp({ create: { width: 480, height: 320, channels: 3, background: { r: 30, g: 120, b: 200 } } }).jpeg().toBuffer();
    const uploaded = await fetch(`${url}/v1/uploads?userId=agent2&name=parcel.jpg`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": "image/jpeg" },
      body: new Uint8Array(picture),
    });
    expect(uploaded.status).toBe(201);
    const { uploadId } = (await uploaded.json()) as { uploadId: string };
    const agent = await connectUser(url, "agent2");
    try {
      await call(agent, "conversation:join", { conversationId: "sandbox-2" });
      const live: Message[] = [];
      agent.on("message:new", (m: Message) => live.push(m));
      await api(url, "POST", "/v1/conversations/sandbox-2/messages", { senderId: "agent2", text: "Is this your parcel?", attachments: [{ uploadId }] });

      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on("pageerror", (err) => problems.push(err.message));
      page.on("console", (m) => /Content.Security.Policy|Refused to/i.test(m.text()) && problems.push(m.text()));
      await page.goto(`${url}/sandbox/sms`);
      await page.fill("#key", TEST_ADMIN_KEY);
      await page.locator("#key-form button[type=submit]").click();
      await page.fill("#phone-filter", phone);
      await page.locator("#filter-form button[type=submit]").click();
      // The MMS's picture, loaded from this origin under the page's CSP.
      const shown = page.locator("#threads li.outbound img");
      await shown.waitFor();
      await expect.poll(() => shown.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
      await expect.poll(() => page.locator("#threads").innerText()).toContain("MMS, 1 picture(s)");

      await page.fill("#reply-from", phone);
      await page.setInputFiles("#reply-media", { name: "mine.png", mimeType: "image/png", buffer: await sharp({ create: { width: 64, height: 48, channels: 3, background: "#2a2" } }).png().toBuffer() });
      await page.locator("#reply-form button[type=submit]").click();
      const reply = await waitFor(() => live.find((m) => m.senderId === "erin"), "the phone user's picture to reach the agent live");
      expect(reply.text).toBe("");
      expect(reply.attachments?.map((a) => [a.mimeType, a.width, a.height])).toEqual([["image/png", 64, 48]]);
      // Listed as the phone's MMS, with the picture as the server kept it.
      const kept = page.locator("#threads li.inbound img");
      await kept.waitFor();
      await expect.poll(() => kept.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(64);
      if (process.env.SCREENSHOTS) await page.screenshot({ path: path.join(ROOT, "docs/sms-sandbox-mms.png"), fullPage: true });
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      agent.close();
    }
  }, 60_000);
});
