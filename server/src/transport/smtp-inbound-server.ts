import fs from "node:fs";
import type { AddressInfo } from "node:net";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import { SwitchboardError } from "../core/errors.js";
import type { EmailService, InboundEmail, InboundRecipient } from "../delivery/email/email-service.js";
import type { Logger } from "../logger.js";

/** Options of {@link SmtpInboundServer}. */
export interface SmtpInboundServerOptions {
  email: Pick<EmailService, "resolveRecipient" | "handleInbound">;
  /** `INBOUND_EMAIL_SMTP_PORT` (0: a free port). */
  port: number;
  /** `INBOUND_EMAIL_SMTP_HOST`. */
  host: string;
  /** `INBOUND_EMAIL_MAX_BYTES`: announced as SIZE and enforced on DATA. */
  maxBytes: number;
  /** PEM files for STARTTLS; without them no TLS is offered (put a relay with TLS in front). */
  tlsKeyFile?: string;
  tlsCertFile?: string;
  logger: Logger;
}

/** Recipients one message may have: a reply goes to one address; more is not a reply. */
const MAX_RECIPIENTS = 5;

/** An SMTP error with the reply code the client gets. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * The inbound SMTP listener (`smtp-server` + `mailparser`): where the MX of `EMAIL_REPLY_DOMAIN`
 * delivers replies and bounces. A recipient is accepted at `RCPT TO` only when it is a signed
 * reply or bounce address of ours whose signature checks; anything else gets 550, so nothing
 * forged or altered is ever read. No authentication (mail servers do not authenticate to an MX).
 */
export class SmtpInboundServer {
  private readonly server: SMTPServer;
  private listeningPort = 0;

  constructor(private readonly options: SmtpInboundServerOptions) {
    const tls = options.tlsKeyFile && options.tlsCertFile ? { key: fs.readFileSync(options.tlsKeyFile), cert: fs.readFileSync(options.tlsCertFile) } : undefined;
    this.server = new SMTPServer({
      banner: "Switchboard inbound email",
      size: options.maxBytes,
      authOptional: true,
      disabledCommands: tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
      ...(tls ?? {}),
      logger: false,
      // A slow or stuck client must not hold a connection for ever.
      socketTimeout: 60_000,
      closeTimeout: 5_000,
      onRcptTo: (address, session, callback) => {
        this.checkRecipient(address, session).then(
          () => callback(),
          (err: Error) => callback(err),
        );
      },
      onData: (stream, session, callback) => {
        this.receive(stream, session).then(
          () => callback(),
          (err: Error) => callback(err),
        );
      },
    });
    this.server.on("error", (err) => options.logger.warn({ err }, "inbound email: SMTP connection error"));
  }

  /** The port it listens on (after {@link listen}). */
  get port(): number {
    return this.listeningPort;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
    this.listeningPort = (this.server.server.address() as AddressInfo).port;
    this.options.logger.info({ port: this.listeningPort, host: this.options.host }, "inbound email: SMTP listener for replies and bounces");
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async checkRecipient(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) throw smtpError(452, "Too many recipients");
    const recipient = await this.options.email.resolveRecipient(address.address).catch((err: unknown) => {
      this.options.logger.error({ err }, "inbound email: recipient check failed");
      throw smtpError(451, "Temporary failure, try again later");
    });
    if (!recipient) {
      this.options.logger.info({ to: address.address, remote: session.remoteAddress }, "inbound email: unknown or forged recipient refused");
      throw smtpError(550, "No such recipient here");
    }
  }

  private async receive(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const parsed = await simpleParser(stream);
    if (stream.sizeExceeded) throw smtpError(552, `Message larger than ${this.options.maxBytes} bytes`);
    const email = toInboundEmail(parsed, session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address);
    // Checked again: the recipients were accepted a moment ago, but each is handled on its own.
    const recipients: InboundRecipient[] = [];
    for (const rcpt of session.envelope.rcptTo) {
      const recipient = await this.options.email.resolveRecipient(rcpt.address);
      if (recipient) recipients.push(recipient);
    }
    for (const recipient of recipients) {
      try {
        const outcome = await this.options.email.handleInbound(recipient, email);
        this.options.logger.info({ threadId: recipient.thread.id, purpose: recipient.purpose, outcome: outcome.kind, ...(outcome.kind === "ignored" ? { reason: outcome.reason } : {}) }, "inbound email handled");
      } catch (err) {
        if (err instanceof SwitchboardError) {
          // Permanent answers for what the sender must change; 451 for what may pass later.
          const temporary = err.code === "unavailable" || err.code === "rate_limited" || err.code === "internal";
          this.options.logger.info({ threadId: recipient.thread.id, code: err.code, message: err.message }, "inbound email refused");
          throw smtpError(temporary ? 451 : 550, err.message);
        }
        this.options.logger.error({ err, threadId: recipient.thread.id }, "inbound email failed");
        throw smtpError(451, "Temporary failure, try again later");
      }
    }
  }
}

/** What the service reads of a parsed email. */
function toInboundEmail(parsed: ParsedMail, envelopeFrom: string): InboundEmail {
  const contentType = parsed.headers.get("content-type") as { value?: string; params?: Record<string, string> } | undefined;
  const isDeliveryReport = contentType?.value?.toLowerCase() === "multipart/report" && (contentType.params?.["report-type"] ?? "").toLowerCase() === "delivery-status";
  const part = (types: string[]) => parsed.attachments.find((a) => types.includes(a.contentType.toLowerCase()))?.content.toString("utf8");
  const autoSubmitted = String(parsed.headers.get("auto-submitted") ?? "no").toLowerCase();
  const from = firstAddress(parsed.from);
  return {
    envelopeFrom,
    ...(from ? { from } : {}),
    ...(parsed.messageId ? { messageId: parsed.messageId } : {}),
    ...(parsed.subject ? { subject: parsed.subject } : {}),
    ...(parsed.text ? { text: parsed.text } : {}),
    isDeliveryReport,
    ...(isDeliveryReport ? { // mailparser inlines a message/delivery-status part into the text; its fields are found there.
            deliveryStatus: part(["message/delivery-status", "message/global-delivery-status"]) ?? parsed.text ?? "", returnedHeaders: part(["text/rfc822-headers", "message/rfc822"]) ?? "" } : {}),
    autoSubmitted: (autoSubmitted !== "no" && autoSubmitted !== "") || parsed.headers.has("x-autoreply") || parsed.headers.has("x-autorespond"),
  };
}

function firstAddress(from: AddressObject | AddressObject[] | undefined): string | undefined {
  const list = Array.isArray(from) ? from : from ? [from] : [];
  for (const group of list) for (const a of group.value) if (a.address) return a.address.toLowerCase();
  return undefined;
}
