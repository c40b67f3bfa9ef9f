import nodemailer, { type Transporter } from "nodemailer";
import type { EmailSendResult, EmailSender, OutboundEmail } from "./email-sender.js";

/** Options of {@link SmtpEmailSender}. */
export interface SmtpEmailSenderOptions {
  /** `SMTP_URL`: `smtp://` (STARTTLS when offered) or `smtps://` (implicit TLS), credentials in the URL. */
  url: string;
  /** `SMTP_TIMEOUT_MS`: connecting, greeting and each command. */
  timeoutMs: number;
}

/** What nodemailer attaches to the errors it throws. */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/**
 * {@link EmailSender} over SMTP with nodemailer: a small pool of connections reused across sends,
 * TLS as the URL says, authentication from the URL's user and password.
 */
export class SmtpEmailSender implements EmailSender {
  readonly name: string;
  private readonly transport: Transporter;

  constructor(options: SmtpEmailSenderOptions) {
    const url = new URL(options.url);
    this.name = `smtp ${url.hostname}:${url.port || (url.protocol === "smtps:" ? 465 : 587)}`;
    const secure = url.protocol === "smtps:";
    this.transport = nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port) || (secure ? 465 : 587),
      secure,
      ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
      pool: true,
      maxConnections: 4,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    });
  }

  async send(email: OutboundEmail): Promise<EmailSendResult> {
    try {
      const info = await this.transport.sendMail({
        from: email.from,
        to: email.to,
        ...(email.replyTo ? { replyTo: email.replyTo } : {}),
        ...(email.envelopeFrom ? { envelope: { from: email.envelopeFrom, to: email.to } } : {}),
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        ...(email.inReplyTo ? { inReplyTo: email.inReplyTo } : {}),
        ...(email.references?.length ? { references: email.references } : {}),
        headers: email.headers,
      });
      const response = String(info.response ?? "accepted");
      if ((info.rejected?.length ?? 0) > 0) return { kind: "rejected", statusCode: 550, detail: `refused: ${response}` };
      return { kind: "sent", response };
    } catch (err) {
      return classify(err as SmtpError);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** SMTP's answer classes: 4xx is "try again", 5xx is "never"; 5xx on the recipient means the address is bad. */
function classify(err: SmtpError): EmailSendResult {
  const code = err.responseCode;
  const detail = (err.response ?? err.message).slice(0, 500);
  if (code !== undefined && code >= 500) {
    if (err.command === "RCPT TO" || err.code === "EENVELOPE") return { kind: "rejected", statusCode: code, detail };
    return { kind: "failed", statusCode: code, detail: err.code === "EAUTH" ? `${detail} (check the user and password in SMTP_URL)` : detail };
  }
  if (code !== undefined && code >= 400) return { kind: "retry", statusCode: code, detail };
  if (err.code === "EAUTH") return { kind: "failed", detail: `${detail} (check the user and password in SMTP_URL)` };
  // No answer at all: the connection failed, timed out or was cut.
  return { kind: "retry", detail: `${err.code ?? "error"}: ${detail}` };
}
