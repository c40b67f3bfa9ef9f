/** One message in an email, as the composer needs it. */
export interface EmailMessageItem {
  senderName: string;
  text: string;
  /** ISO-8601. */
  createdAt: string;
  /** Files as links: signed download links for uploads, the given URL otherwise. */
  attachments: { name: string; url: string }[];
}

/** What {@link composeEmail} turns into a subject and two bodies. */
export interface EmailComposeInput {
  /** The conversation's title, for groups that have one. */
  conversationTitle?: string;
  /** Who the conversation is with, for a direct one (the other member's name). */
  directWith?: string;
  /** Oldest first; at least one. */
  messages: EmailMessageItem[];
  /** Unread messages left out of the email (beyond {@link EMAIL_DIGEST_MAX_MESSAGES}). */
  omitted: number;
  /** Later emails of the thread say `Re:`, as mail clients expect of a thread. */
  isReply: boolean;
  /** Whether replying to the email posts into the conversation. */
  canReply: boolean;
  /** The signed one-click unsubscribe link. */
  unsubscribeUrl: string;
}

/** The bodies and subject of one email. */
export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Most messages one email lists; older unread ones are counted, not shown. */
export const EMAIL_DIGEST_MAX_MESSAGES = 20;

/** The marker above which a reply's text is ours to drop, should a client keep the quote without `>`. */
export const REPLY_ABOVE_LINE = "Reply above this line to answer in the conversation.";

/**
 * Subject, plain text and HTML of a notification email. The subject stays the same for every
 * email of a conversation (clients thread on it with the `References` header); every piece of
 * user text in the HTML is escaped, so a message can never inject markup or script.
 */
export function composeEmail(input: EmailComposeInput): ComposedEmail {
  const topic = input.conversationTitle ?? (input.directWith ? `Your conversation with ${input.directWith}` : "Your conversation");
  const subject = `${input.isReply ? "Re: " : ""}${oneLine(topic).slice(0, 150)}`;
  const count = input.messages.length + input.omitted;
  const lead = count === 1 ? "You have an unread message:" : `You have ${count} unread messages:`;

  const textParts: string[] = [];
  if (input.canReply) textParts.push(REPLY_ABOVE_LINE, "");
  textParts.push(lead, "");
  if (input.omitted > 0) textParts.push(`(${input.omitted} earlier ${input.omitted === 1 ? "message" : "messages"} not shown)`, "");
  for (const m of input.messages) {
    textParts.push(`${m.senderName} (${formatTime(m.createdAt)}):`);
    if (m.text.trim()) textParts.push(m.text.trim());
    for (const a of m.attachments) textParts.push(`[${a.name}] ${a.url}`);
    textParts.push("");
  }
  textParts.push("--", input.canReply ? "Reply to this email to answer; your reply is posted in the conversation." : "Open the conversation in the app to answer.");
  textParts.push(`Stop emails about this conversation: ${input.unsubscribeUrl}`);

  const items = input.messages
    .map((m) => {
      const files = m.attachments.map((a) => `<li><a href="${escapeHtml(a.url)}">${escapeHtml(a.name)}</a></li>`).join("");
      return (
        `<div style="margin:0 0 16px">` +
        `<div style="color:#555;font-size:13px"><strong>${escapeHtml(m.senderName)}</strong> · ${escapeHtml(formatTime(m.createdAt))}</div>` +
        (m.text.trim() ? `<div style="white-space:pre-wrap;margin-top:4px">${escapeHtml(m.text.trim())}</div>` : "") +
        (files ? `<ul style="margin:4px 0 0;padding-left:20px">${files}</ul>` : "") +
        `</div>`
      );
    })
    .join("");
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>` +
    `<body style="font-family:system-ui,sans-serif;font-size:15px;color:#111">` +
    (input.canReply ? `<div style="color:#888;font-size:12px">${escapeHtml(REPLY_ABOVE_LINE)}</div>` : "") +
    `<p>${escapeHtml(lead)}</p>` +
    (input.omitted > 0 ? `<p style="color:#555">(${input.omitted} earlier ${input.omitted === 1 ? "message" : "messages"} not shown)</p>` : "") +
    items +
    `<hr style="border:none;border-top:1px solid #ddd">` +
    `<p style="color:#555;font-size:12px">${escapeHtml(input.canReply ? "Reply to this email to answer; your reply is posted in the conversation." : "Open the conversation in the app to answer.")} ` +
    `<a href="${escapeHtml(input.unsubscribeUrl)}">Stop emails about this conversation</a>.</p>` +
    `</body></html>`;
  return { subject, text: textParts.join("\n"), html };
}

/** Escapes the five characters that matter in HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, " ").trim();
}

/** `2026-01-05 14:03 UTC`: unambiguous for a reader in any time zone. */
function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
