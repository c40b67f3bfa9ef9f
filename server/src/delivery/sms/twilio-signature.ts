import { createHmac, timingSafeEqual } from "node:crypto";
import { parse as parseQuery, stringify as stringifyQuery } from "node:querystring";

/**
 * Form parameters of a webhook request. A key sent several times (`MediaUrl=a&MediaUrl=b`)
 * holds all of its values.
 */
export type TwilioParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * The `X-Twilio-Signature` Twilio computes for a request to `url` with form `params`: base64 of
 * HMAC-SHA1, keyed with the auth token, over the URL followed by each parameter's name and value,
 * sorted by name (the values of a repeated name de-duplicated and sorted too). This is the same
 * computation as the official library's `getExpectedTwilioSignature`.
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (typeof value === "string") data += key + value;
    else for (const v of [...new Set(value)].sort()) data += key + v;
  }
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf8")).digest("base64");
}

/**
 * Whether `signature` (the `X-Twilio-Signature` header) was made with `authToken` for a request to
 * `url` with form `params`. `url` is the webhook URL as configured at Twilio, query included.
 *
 * Like Twilio's own `validateRequest`: the URL as given is tried without and with its port
 * (Twilio signs `https://host/path` when a proxy reports `https://host:443/path`, and the other
 * way round), then the URL as `new URL()` normalises it, with the query also re-encoded the way
 * Node's legacy `querystring` does. Every comparison is constant-time.
 */
export function validateTwilioSignature(authToken: string, url: string, params: TwilioParams, signature: string | undefined): boolean {
  const presented = Buffer.from(signature ?? "", "utf8");
  const matches = (candidate: string) => {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), "utf8");
    // The expected length is fixed by SHA-1, so an early length check reveals nothing secret.
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  };
  if ([removePort(url), addPort(url)].some(matches)) return true;
  let normalized: string;
  try {
    normalized = new URL(url).toString();
  } catch {
    return false;
  }
  const withoutPort = removePort(normalized);
  const withPort = addPort(normalized);
  return [withoutPort, withPort, withLegacyQuerystring(withoutPort), withLegacyQuerystring(withPort)].some(matches);
}

/** A URL's parts, split without normalising so the path and query keep the characters Twilio signed. */
function splitUrl(url: string): { scheme: string; userInfo: string; host: string; port: string; rest: string } | null {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme, authority] = match;
  const userInfoEnd = authority.lastIndexOf("@");
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after an IPv6 literal's closing bracket.
  const portStart = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? "" : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

/** The URL with the scheme's default port added when it has none. */
function addPort(url: string): string {
  const parts = splitUrl(url);
  if (!parts || parts.port) return url;
  const port = parts.scheme.toLowerCase() === "https://" ? ":443" : ":80";
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

/** The URL without any port. */
function removePort(url: string): string {
  const parts = splitUrl(url);
  return parts ? parts.scheme + parts.userInfo + parts.host + parts.rest : url;
}

/** The URL with its query re-encoded by Node's legacy `querystring` (`'` becomes `%27`). */
function withLegacyQuerystring(url: string): string {
  const queryStart = url.indexOf("?");
  if (queryStart === -1 || queryStart === url.length - 1) return url;
  return url.slice(0, queryStart) + "?" + stringifyQuery(parseQuery(url.slice(queryStart + 1)));
}
