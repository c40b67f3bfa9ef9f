import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/** One email the sink accepted. */
export interface SunkEmail {
  /** The envelope: `MAIL FROM` and `RCPT TO`. */
  mailFrom: string;
  rcptTo: string[];
  /** The user the client authenticated as. */
  user?: string;
  parsed: ParsedMail;
  /** A header's value as text (lower-case name). */
  header(name: string): string | undefined;
}

/** A real SMTP server (smtp-server) on a free port that keeps what it receives. */
export interface SmtpSink {
  port: number;
  /** `smtp://user:pass@127.0.0.1:port`. */
  url: string;
  received: SunkEmail[];
  /** Recipients refused at RCPT TO with 550 (a hard bounce at send time). */
  rejectRecipients: Set<string>;
  close(): Promise<void>;
}

/**
 * Starts the sink. It requires AUTH PLAIN/LOGIN with `user`/`pass` (without TLS, as on a private
 * relay), refuses listed recipients with 550 5.1.1, and parses every accepted message with mailparser.
 */
export async function startSmtpSink(credentials = { user: "mailer", pass: "s3cret" }): Promise<SmtpSink> {
  const received: SunkEmail[] = [];
  const rejectRecipients = new Set<string>();
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass) return callback(null, { user: auth.username });
      callback(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (rejectRecipients.has(address.address.toLowerCase())) return callback(Object.assign(new Error("5.1.1 <" + address.address + ">: Recipient address rejected: User unknown"), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          received.push({
            mailFrom: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            ...(typeof session.user === "string" ? { user: session.user } : {}),
            parsed,
            // The raw line: mailparser folds some headers (List-*) into structured fields.
            header: (name) => {
              const line = parsed.headerLines.find((h) => h.key === name)?.line;
              return line?.slice(line.indexOf(":") + 1).replace(/\r?\n[ \t]+/g, " ").trim();
            },
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://${credentials.user}:${credentials.pass}@127.0.0.1:${port}`,
    received,
    rejectRecipients,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
