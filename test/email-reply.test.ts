import { describe, expect, it } from "vitest";
import { composeEmail, escapeHtml, REPLY_ABOVE_LINE } from "../server/src/delivery/email/email-composer.js";
import { extractReply, parseDeliveryStatus } from "../server/src/delivery/email/email-service.js";

describe("what a reply by email posts", () => {
  it("keeps only the new text above a Gmail-style quote and drops the signature", () => {
    const text = "Friday works for me.\n\n-- \nAda Lovelace\nAnalytical Engines Ltd\n\nOn Mon, Jan 5, 2026 at 10:00 AM Switchboard <notify@example.com> wrote:\n> When shall we ship?\n> \n";
    expect(extractReply(text)).toBe("Friday works for me.");
  });

  it("cuts at our reply-above-this-line marker even when the client quotes without markers", () => {
    const text = `Yes, ship it.\r\n\r\n${REPLY_ABOVE_LINE}\r\n\r\nYou have an unread message:\r\nAlice: ship?`;
    expect(extractReply(text)).toBe("Yes, ship it.");
  });

  it("posts nothing for a reply that only quotes", () => {
    expect(extractReply("On Tue, Jan 6, 2026 at 9:00 AM Bob <bob@example.com> wrote:\n> hello\n")).toBe("");
  });

  it("keeps a multi-line answer with its own blank lines", () => {
    expect(extractReply("First point.\n\nSecond point.\n\n> quoted line\n")).toBe("First point.\n\nSecond point.");
  });
});

describe("a delivery status notification", () => {
  it("yields the failed recipient, the action and the status", () => {
    const status = "Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; <Ada@Example.com>\nAction: failed\nStatus: 5.1.1 (user unknown)\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n";
    expect(parseDeliveryStatus(status)).toEqual({ finalRecipient: "ada@example.com", action: "failed", status: "5.1.1", diagnostic: "smtp; 550 5.1.1 User unknown" });
    expect(parseDeliveryStatus("Action: delayed\nStatus: 4.4.1\n")).toEqual({ action: "delayed", status: "4.4.1" });
  });
});

describe("a notification email", () => {
  it("escapes user text, names and file links in the HTML and keeps the subject per conversation", () => {
    const email = composeEmail({
      conversationTitle: "Launch <b>plan</b>",
      messages: [{ senderName: '"Eve" <img src=x onerror=alert(1)>', text: "<script>alert(1)</script>", createdAt: "2026-01-05T10:00:00.000Z", attachments: [{ name: "a\"b.pdf", url: "https://x.example/f?a=1&b=2" }] }],
      omitted: 0,
      isReply: true,
      canReply: true,
      unsubscribeUrl: "https://chat.example.com/v1/email/unsubscribe/0123",
    });
    expect(email.subject).toBe("Re: Launch <b>plan</b>");
    expect(email.html).not.toMatch(/<script|<img|<b>/);
    expect(email.html).toContain(escapeHtml("<script>alert(1)</script>"));
    expect(email.html).toContain('href="https://x.example/f?a=1&amp;b=2"');
    expect(email.text).toContain("[a\"b.pdf] https://x.example/f?a=1&b=2");
    expect(email.text.startsWith(REPLY_ABOVE_LINE)).toBe(true);
  });
});
