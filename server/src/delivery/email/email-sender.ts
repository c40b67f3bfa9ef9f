/**
 * Sending one email: the interface the delivery worker uses, with the SMTP driver
 * (`smtp-email-sender.ts`) beside it.
 */

/** One email, ready to go. */
export interface OutboundEmail {
  /** `EMAIL_FROM`. */
  from: string;
  to: string;
  /** The signed reply address, when replies can reach us. */
  replyTo?: string;
  /** The envelope sender (`MAIL FROM`, the `Return-Path`): the signed bounce address, else the `From` address. */
  envelopeFrom?: string;
  subject: string;
  text: string;
  html: string;
  /** With angle brackets. */
  messageId: string;
  /** The thread's latest `Message-ID`, with angle brackets. */
  inReplyTo?: string;
  /** The thread's `Message-ID`s, oldest first. */
  references?: string[];
  /** Further headers (`List-Unsubscribe`, `List-Unsubscribe-Post`, `Auto-Submitted`, …). */
  headers: Record<string, string>;
}

/** What became of a send. */
export type EmailSendResult =
  /** The SMTP server accepted it (250 after DATA). */
  | { kind: "sent"; response: string }
  /** The recipient was refused for good (5xx at `RCPT TO`): a hard bounce. */
  | { kind: "rejected"; statusCode: number; detail: string }
  /** Worth another try: a 4xx, a timeout, the connection failed. */
  | { kind: "retry"; statusCode?: number; detail: string }
  /** Will not work by retrying (authentication refused, the message refused with a 5xx): not a bounce of the address. */
  | { kind: "failed"; statusCode?: number; detail: string };

/** Sends email. Never throws for the server's answers: they are results. */
export interface EmailSender {
  /** Shown in timelines and logs, such as `smtp mail.example.com:587`. */
  readonly name: string;
  send(email: OutboundEmail): Promise<EmailSendResult>;
  /** Closes pooled connections. */
  close(): void;
}
