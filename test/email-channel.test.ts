import nodemailer, { type SendMailOptions } from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import type { Delivery } from "../server/src/delivery/delivery-store.js";
import { api, call, connectUser, startServer, waitFor, type TestServer } from "./support/harness.js";
import { freePort } from "./support/redis-server.js";
import { startReceiver } from "./support/webhook-receiver.js";
import { Webhook } from "standardwebhooks";
import { startSmtpSink, type SmtpSink, type SunkEmail } from "./support/smtp-sink.js";

/**
 * The email channel end to end on one node: a real SMTP server (smtp-server) receives the
 * notifications over SMTP with AUTH, and replies and bounces are sent with nodemailer to the
 * node's own inbound SMTP listener.
 */

const REPLY_DOMAIN = "reply.example.com";

interface Stack {
  server: TestServer;
  url: string;
  sink: SmtpSink;
  inboundPort: number;
  send(text: string, conversationId?: string): Promise<Message>;
  deliveries(messageId: string): Promise<Delivery[]>;
  /** Waits for the nth email (1-based) to arrive and returns it. */
  email(n: number): Promise<SunkEmail>;
  /** Sends a message to the inbound listener, as a mail server (or the user's client) would. */
  deliver(message: SendMailOptions): Promise<unknown>;
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startStack(extraEnv: Record<string, string> = {}): Promise<Stack> {
  const sink = await startSmtpSink();
  cleanups.push(() => sink.close());
  // PUBLIC_URL is where the unsubscribe links point, so the port is chosen before the server starts.
  const port = await freePort();
  const server = await startServer({
    env: {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      SMTP_URL: sink.url,
      EMAIL_FROM: "Switchboard <notify@example.com>",
      EMAIL_REPLY_DOMAIN: REPLY_DOMAIN,
      EMAIL_DELAY_SECONDS: "1",
      INBOUND_EMAIL_SMTP_PORT: "0",
      DELIVERY_POLL_INTERVAL_MS: "20",
      DELIVERY_RETRY_SCHEDULE: "100ms,200ms",
      ...extraEnv,
    },
  });
  cleanups.push(() => server.close());
  const url = server.url;
  const ok = async (res: Promise<{ status: number; body: any }>, what: string) => {
    const r = await res;
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await ok(api(url, "POST", "/v1/users", { id: "alice", name: "Alice" }), "alice");
  await ok(api(url, "POST", "/v1/users", { id: "bob", name: "Bob", email: "Bob@Example.com" }), "bob");
  await ok(api(url, "POST", "/v1/users", { id: "carol", name: "Carol", email: "carol@example.com" }), "carol");
  await ok(api(url, "POST", "/v1/conversations", { id: "c1", type: "group", title: "Project X", memberIds: ["alice", "bob", "carol"] }), "c1");
  await ok(api(url, "POST", "/v1/conversations", { id: "c2", type: "group", title: "Project Y", memberIds: ["alice", "bob"] }), "c2");
  const inboundPort = server.app.inboundEmailPort!;
  const inbound = nodemailer.createTransport({ host: "127.0.0.1", port: inboundPort, secure: false, ignoreTLS: true });
  cleanups.push(() => inbound.close());
  return {
    server,
    url,
    sink,
    inboundPort,
    send: async (text, conversationId = "c1") => ok(api(url, "POST", `/v1/conversations/${conversationId}/messages`, { senderId: "alice", text }), "send"),
    deliveries: async (messageId) => (await ok(api(url, "GET", `/v1/messages/${messageId}/deliveries`), "deliveries")).deliveries,
    email: (n) => waitFor(() => sink.received[n - 1], `email ${n} to arrive`, 10_000),
    deliver: (message) => inbound.sendMail(message),
  };
}

/** The emails that went to one address. */
const to = (sink: SmtpSink, address: string) => sink.received.filter((e) => e.rcptTo.includes(address));

describe("the email channel", () => {
  it("emails an offline member one digest of the unread messages, HTML-escaped, and threads the next email under it", async () => {
    const stack = await startStack();
    const first = await stack.send("Hello <script>alert(1)</script> & welcome");
    const second = await stack.send("Second thought: ship on Friday");
    const bobEmail = await waitFor(() => to(stack.sink, "bob@example.com")[0], "bob's email");

    // Authenticated with the credentials of SMTP_URL; the envelope sender is the signed bounce address.
    expect(bobEmail.user).toBe("mailer");
    expect(bobEmail.mailFrom).toMatch(new RegExp(`^bounce\\+[0-9a-f]{32}@${REPLY_DOMAIN}$`));
    expect(bobEmail.parsed.subject).toBe("Project X");
    expect(bobEmail.parsed.from?.text).toBe('"Switchboard" <notify@example.com>');
    expect(bobEmail.parsed.replyTo?.value[0].address).toMatch(new RegExp(`^reply\\+[0-9a-f]{32}@${REPLY_DOMAIN}$`));
    // Both messages in one email, in order.
    const text = bobEmail.parsed.text ?? "";
    expect(text).toContain("You have 2 unread messages");
    expect(text.indexOf("Hello <script>")).toBeLessThan(text.indexOf("Second thought"));
    const html = String(bobEmail.parsed.html);
    expect(html).toContain("Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; welcome");
    expect(html).not.toContain("<script>");
    expect(bobEmail.header("list-unsubscribe")).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/v1\/email\/unsubscribe\/[0-9a-f]{32}>$/);
    expect(bobEmail.header("list-unsubscribe-post")).toBe("List-Unsubscribe=One-Click");
    expect(bobEmail.header("auto-submitted")).toBe("auto-generated");

    // The timeline: one sent email for the first message, the second folded into it.
    const [d1] = (await stack.deliveries(first.id)).filter((d) => d.userId === "bob" && d.channel === "email");
    expect(d1).toMatchObject({ status: "sent", to: "bob@example.com", messageCount: 2, lastMessageId: second.id, providerMessageId: bobEmail.parsed.messageId });
    expect((await stack.deliveries(second.id)).find((d) => d.userId === "bob")).toMatchObject({ status: "collapsed", collapsedInto: d1.id });

    // A later message starts the next email, which threads under the first one.
    const third = await stack.send("Third: who brings the cake?");
    const next = await waitFor(() => to(stack.sink, "bob@example.com")[1], "bob's second email");
    expect(next.parsed.subject).toBe("Re: Project X");
    expect(next.parsed.inReplyTo).toBe(bobEmail.parsed.messageId);
    expect(next.parsed.references).toEqual(bobEmail.parsed.messageId);
    expect(next.parsed.text).toContain("You have an unread message");
    expect(next.parsed.text).toContain("who brings the cake?");
    expect(next.parsed.text).not.toContain("Second thought");
    expect(next.parsed.replyTo?.text).toBe(bobEmail.parsed.replyTo?.text);
    expect((await stack.deliveries(third.id)).find((d) => d.userId === "bob")).toMatchObject({ channel: "email", status: "sent" });
  }, 30_000);

  it("posts a reply sent to the reply address live into the conversation as the user, without the quoted text", async () => {
    const stack = await startStack();
    const original = await stack.send("Can you review the draft?");
    const email = await waitFor(() => to(stack.sink, "bob@example.com")[0], "bob's email");
    const alice = await connectUser(stack.url, "alice");
    cleanups.push(() => alice.close());
    await call(alice, "conversation:join", { conversationId: "c1" });
    const live: Message[] = [];
    alice.on("message:new", (m: Message) => live.push(m));

    await stack.deliver({
      from: "Bob <bob@example.com>",
      to: email.parsed.replyTo!.text,
      subject: `Re: ${email.parsed.subject}`,
      inReplyTo: email.parsed.messageId,
      text:
        "Yes, I will review it tonight.\n\nBob\n\n" +
        `On Mon, Jan 5, 2026 at 10:00 AM Switchboard <notify@example.com> wrote:\n> ${original.text}\n> \n> Reply to this email to answer.\n`,
    });
    const posted = await waitFor(() => live.find((m) => m.senderId === "bob"), "bob's reply to arrive live");
    expect(posted).toMatchObject({ conversationId: "c1", senderId: "bob", type: "text" });
    expect(posted.text).toBe("Yes, I will review it tonight.\n\nBob");
    expect(posted.text).not.toContain("wrote:");
    expect(posted.text).not.toContain(original.text);
  }, 30_000);

  it("refuses a forged, altered or borrowed reply address at RCPT time, and a reply from another sender, posting nothing", async () => {
    const stack = await startStack();
    await stack.send("Room X message");
    await stack.send("Room Y message", "c2");
    await waitFor(() => to(stack.sink, "bob@example.com").length >= 2, "both of bob's emails");
    const [x, y] = ["Project X", "Project Y"].map((subject) => to(stack.sink, "bob@example.com").find((e) => e.parsed.subject === subject)!.parsed.replyTo!.value[0].address!);
    const token = (address: string) => /^reply\+([0-9a-f]{32})@/.exec(address)![1];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "a" ? "b" : "a") + s.slice(i + 1);
    const refused = [
      `reply+${flip(token(x), 31)}@${REPLY_DOMAIN}`, // a MAC digit changed
      `reply+${flip(token(x), 0)}@${REPLY_DOMAIN}`, // a thread id digit changed
      `reply+${token(y).slice(0, 12)}${token(x).slice(12)}@${REPLY_DOMAIN}`, // room Y's thread with room X's signature
      `reply+${"0".repeat(32)}@${REPLY_DOMAIN}`, // made up
      `bounce+${token(x)}@${REPLY_DOMAIN}`, // the reply token used as a bounce token
      x.replace(REPLY_DOMAIN, "elsewhere.example.com"), // another domain
    ];
    for (const address of refused) {
      const err = await stack.deliver({ from: "bob@example.com", to: address, subject: "Re: Project X", text: "Forged reply" }).then(
        () => null,
        (e: { responseCode?: number; code?: string }) => e,
      );
      expect(err, address).toMatchObject({ code: "EENVELOPE", responseCode: 550 });
    }
    // The right address, from someone else: refused at DATA.
    const stranger = await stack.deliver({ from: "mallory@example.net", to: x, subject: "Re: Project X", text: "Posting as bob" }).then(
      () => null,
      (e: { responseCode?: number; response?: string }) => e,
    );
    expect(stranger).toMatchObject({ responseCode: 550 });
    expect((stranger as { response: string }).response).toContain("accepted from b***@example.com only");

    for (const conversationId of ["c1", "c2"]) {
      const history = await api(stack.url, "GET", `/v1/conversations/${conversationId}/messages`);
      expect(history.body.messages.map((m: Message) => m.senderId)).toEqual(["alice"]);
    }
  }, 30_000);

  it("stops the conversation's emails to a user who used the one-click unsubscribe, and only theirs", async () => {
    const stack = await startStack();
    await stack.send("Before unsubscribing");
    const email = await waitFor(() => to(stack.sink, "bob@example.com")[0], "bob's email");
    const link = /^<(.+)>$/.exec(email.header("list-unsubscribe")!)![1];

    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    // Opening the page changes nothing: a link scanner unsubscribes nobody.
    const rfc8058 = await fetch(link, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" });
    expect(rfc8058.status).toBe(200);
    expect(await rfc8058.text()).toContain("You will no longer get emails about this conversation.");
    const tampered = await fetch(link.replace(/.$/, (c) => (c === "a" ? "b" : "a")), { method: "POST", body: "List-Unsubscribe=One-Click", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(tampered.status).toBe(404);

    await waitFor(() => to(stack.sink, "carol@example.com").length === 1, "carol's first email");
    const after = await stack.send("After bob unsubscribed");
    // Carol still gets hers; bob's was never planned (checked in the same planning pass).
    await waitFor(() => to(stack.sink, "carol@example.com").length === 2, "carol's second email");
    const deliveries = await stack.deliveries(after.id);
    expect(deliveries.map((d) => [d.userId, d.channel, d.status])).toEqual([["carol", "email", "sent"]]);
    expect(to(stack.sink, "bob@example.com")).toHaveLength(1);
    // Other conversations still email bob.
    await stack.send("In another room", "c2");
    await waitFor(() => to(stack.sink, "bob@example.com").length === 2, "bob's email about c2");
  }, 30_000);

  it("stops email to an address after a hard bounce: a DSN to the bounce address, or a 550 at send time", async () => {
    const stack = await startStack();
    const first = await stack.send("This one bounces later");
    const email = await waitFor(() => to(stack.sink, "bob@example.com")[0], "bob's email");
    // What a receiving mail server returns (RFC 3464), to the envelope sender of the email.
    // nodemailer cannot build multipart/report itself: the DSN is sent raw.
    await stack.deliver({
      envelope: { from: "", to: email.mailFrom },
      raw:
        `From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nTo: ${email.mailFrom}\r\nSubject: Undelivered Mail Returned to Sender\r\n` +
        `Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n` +
        `--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n` +
        `--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; bob@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n` +
        `--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: ${email.parsed.messageId}\r\nSubject: ${email.parsed.subject}\r\n` +
        `--B--\r\n`,
    });
    await waitFor(async () => (await stack.deliveries(first.id)).find((d) => d.userId === "bob")?.status === "undelivered", "the bounced email to be marked undelivered");
    const [bounced] = (await stack.deliveries(first.id)).filter((d) => d.userId === "bob");
    expect(bounced.events.at(-1)).toMatchObject({ status: "undelivered", errorCode: "5.1.1" });

    // At send time: the SMTP server refuses carol's address for good.
    stack.sink.rejectRecipients.add("carol@example.com");
    await waitFor(() => to(stack.sink, "carol@example.com").length === 1, "carol's first email");
    await api(stack.url, "POST", "/v1/users", { id: "dave", name: "Dave", email: "dave@example.com" });
    expect((await api(stack.url, "POST", "/v1/conversations/c1/members", { userId: "dave" })).status).toBe(200);
    const second = await stack.send("After the bounces");
    await waitFor(() => to(stack.sink, "dave@example.com").length === 1, "dave's email");
    const deliveries = await waitFor(async () => {
      const list = await stack.deliveries(second.id);
      return list.every((d) => d.status !== "scheduled") ? list : undefined;
    }, "the deliveries of the second message to finish");
    // Bob's address bounced: no email planned. Carol's was refused now: cancelled, and recorded.
    expect(deliveries.map((d) => [d.userId, d.channel, d.status, d.cancelReason ?? null]).sort()).toEqual([
      ["carol", "email", "cancelled", "no_destination"],
      ["dave", "email", "sent", null],
    ]);
    expect(deliveries.find((d) => d.userId === "carol")!.events.at(-1)).toMatchObject({ statusCode: 550, errorCode: "hard_bounce" });
    const third = await stack.send("Nothing for carol now");
    await waitFor(() => to(stack.sink, "dave@example.com").length === 2, "dave's second email");
    expect((await stack.deliveries(third.id)).map((d) => d.userId)).toEqual(["dave"]);
  }, 30_000);

  it("tells webhooks about the email's steps as signed delivery.updated events", async () => {
    const stack = await startStack({ WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_POLL_INTERVAL_MS: "50" });
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const endpoint = (await api(stack.url, "POST", "/v1/webhooks", { url: receiver.url, eventTypes: ["delivery.updated"] })).body as { secret: string };
    const message = await stack.send("webhook me by email");
    const events = () =>
      receiver.receipts
        .map((r) => new Webhook(endpoint.secret).verify(r.body, r.headers) as { type: string; data: Delivery })
        .filter((e) => e.data.messageId === message.id && e.data.userId === "bob");
    await waitFor(() => events().some((e) => e.data.status === "sent"), "bob's sent event");
    expect(events().map((e) => e.data.status)).toEqual(expect.arrayContaining(["scheduled", "sent"]));
    expect(events().every((e) => e.data.channel === "email")).toBe(true);
    expect(events().find((e) => e.data.status === "sent")!.data).toMatchObject({ to: "bob@example.com", from: "Switchboard <notify@example.com>" });
  }, 30_000);

  it("cancels the pending email when the member reads the message first, and honours the email preference", async () => {
    const stack = await startStack();
    const message = await stack.send("Read me before the email goes");
    const read = await api(stack.url, "POST", "/v1/conversations/c1/read", { userId: "bob", seq: message.seq });
    expect(read.status).toBe(200);
    const cancelled = await waitFor(async () => (await stack.deliveries(message.id)).find((d) => d.userId === "bob" && d.status === "cancelled"), "bob's email to be cancelled");
    expect(cancelled).toMatchObject({ channel: "email", cancelReason: "read" });
    await waitFor(() => to(stack.sink, "carol@example.com").length === 1, "carol's email");
    expect(to(stack.sink, "bob@example.com")).toHaveLength(0);

    const prefs = await api(stack.url, "PATCH", "/v1/users/bob/notification-preferences", { email: false });
    expect(prefs.status).toBe(200);
    expect(prefs.body).toMatchObject({ email: false });
    const next = await stack.send("Bob turned email off");
    await waitFor(() => to(stack.sink, "carol@example.com").length === 2, "carol's second email");
    expect((await stack.deliveries(next.id)).map((d) => d.userId)).toEqual(["carol"]);
  }, 30_000);
});
