import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { SwitchboardError } from "../core/errors.js";
import { escapeHtml } from "../delivery/email/email-composer.js";
import type { EmailService } from "../delivery/email/email-service.js";
import { errors, type HttpEnv } from "./http-routes.js";

/** What the email routes need; `email` is absent while email is off (`SMTP_URL` unset), and the routes then answer 404 `not_found`. */
export interface EmailHttpDeps {
  email?: Pick<EmailService, "unsubscribeTarget" | "unsubscribe">;
}

const TAGS = ["Email"];

const tokenParam = z.object({
  token: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, "must be the 32-character token of an email's unsubscribe link")
    .meta({ param: { name: "token", in: "path" }, description: "The signed token from the email's `List-Unsubscribe` link.", example: "3f2a9c01b7e4d1c0ffee00112233445566778899" }),
});

const html = (description: string) => ({ description, content: { "text/html": { schema: z.string() } } });

export const emailUnsubscribePageRoute = createRoute({
  method: "get",
  path: "/v1/email/unsubscribe/{token}",
  tags: TAGS,
  summary: "Show the unsubscribe confirmation page",
  description:
    "**No authentication: the signed token is the capability.** The page an email's unsubscribe link opens: it asks to confirm, " +
    "so that a link scanner following the link unsubscribes nobody. Confirming POSTs to the same URL.",
  security: [],
  request: { params: tokenParam },
  responses: { 200: html("The confirmation page."), ...errors(400, 404, 500, 503) },
});

export const emailUnsubscribeRoute = createRoute({
  method: "post",
  path: "/v1/email/unsubscribe/{token}",
  tags: TAGS,
  summary: "Stop a conversation's emails (RFC 8058 one-click)",
  description:
    "**No authentication: the signed token is the capability.** What a mail client POSTs (`List-Unsubscribe=One-Click`, " +
    "`application/x-www-form-urlencoded`) when the user clicks its unsubscribe button, and what the confirmation page submits. " +
    "Stops email about this conversation to this user (recorded in the email ledger; idempotent) and cancels the email " +
    "already scheduled. Other channels and other conversations are unchanged.",
  security: [],
  request: { params: tokenParam },
  responses: { 200: html("Unsubscribed (or already)."), ...errors(400, 404, 413, 500, 503) },
});

/** Every email route, in documentation order; {@link registerEmailRoutes} registers exactly these. */
export const EMAIL_ROUTES = [emailUnsubscribePageRoute, emailUnsubscribeRoute] as const;

/**
 * Registers the unsubscribe link's routes: before the `/v1` API key middleware, which they answer
 * in place of. Pages are tiny, self-contained and cached by nobody.
 */
export function registerEmailRoutes(app: OpenAPIHono<HttpEnv>, deps: EmailHttpDeps): void {
  const notFound = "This unsubscribe link is not valid (or email is off on this server). Use the link of a recent email.";

  app.openapi(emailUnsubscribePageRoute, async (c) => {
    c.header("Cache-Control", "no-store");
    const { token } = c.req.valid("param");
    const thread = await deps.email?.unsubscribeTarget(token);
    if (!thread) throw new SwitchboardError("not_found", notFound);
    return c.html(
      page(
        "Stop these emails?",
        `<p>You will no longer get emails about this conversation. Other conversations and notifications are unchanged.</p>` +
          `<form method="post"><input type="hidden" name="confirm" value="1"><button type="submit">Unsubscribe</button></form>`,
      ),
      200,
    );
  });

  app.openapi(emailUnsubscribeRoute, async (c) => {
    c.header("Cache-Control", "no-store");
    const { token } = c.req.valid("param");
    if (!deps.email) throw new SwitchboardError("not_found", notFound);
    // RFC 8058: the one-click body is `List-Unsubscribe=One-Click`; our page sends `confirm=1`.
    const form = /application\/x-www-form-urlencoded/i.test(c.req.header("content-type") ?? "") ? new URLSearchParams(await c.req.text()) : new URLSearchParams();
    const source = form.get("List-Unsubscribe") === "One-Click" ? "one_click" : "link";
    // A token that does not check is `not_found`, answered like every API error.
    await deps.email.unsubscribe(token, source);
    return c.html(page("Unsubscribed", "<p>You will no longer get emails about this conversation.</p>"), 200);
  });
}

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">` +
    `<h1 style="font-size:1.4rem">${escapeHtml(title)}</h1>${body}</body></html>`
  );
}
