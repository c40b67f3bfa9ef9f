import { lookup as dnsLookup } from "node:dns/promises";
import net from "node:net";
import { SwitchboardError } from "../core/errors.js";

/** Longest webhook URL accepted. */
const URL_MAX_LENGTH = 2048;

/** Resolves a host name to every address it has (`dns.lookup` with `all: true` by default). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** Whether a destination may receive webhooks. */
export type DestinationVerdict =
  | { verdict: "allowed" }
  /** It is, or resolves to, an address in a private, loopback, link-local or reserved range. */
  | { verdict: "refused"; reason: string }
  /** Its name did not resolve (yet): a network problem, not a policy one. */
  | { verdict: "unresolved"; reason: string };

/**
 * Ranges a webhook must never reach unless `WEBHOOK_ALLOW_PRIVATE` is set: the server's own
 * network and machine (SSRF). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) match the IPv4 rules;
 * NAT64 and 6to4 addresses are judged by the IPv4 address they embed.
 */
const BLOCKED = (() => {
  const list = new net.BlockList();
  for (const [prefix, bits] of [
    ["0.0.0.0", 8], // "this network"
    ["10.0.0.0", 8],
    ["100.64.0.0", 10], // carrier-grade NAT
    ["127.0.0.0", 8],
    ["169.254.0.0", 16], // link-local, cloud metadata services
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.88.99.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 4], // multicast
    ["240.0.0.0", 4], // reserved, broadcast
  ] as const) {
    list.addSubnet(prefix, bits, "ipv4");
  }
  for (const [prefix, bits] of [
    ["::", 128], // unspecified
    ["::1", 128], // loopback
    ["64:ff9b:1::", 48], // local-use NAT64
    ["100::", 64], // discard
    ["2001::", 32], // Teredo: the IPv4 address inside is obfuscated, so refuse it whole
    ["2001:db8::", 32], // documentation
    ["fc00::", 7], // unique local
    ["fe80::", 10], // link-local
    ["fec0::", 10], // site-local (deprecated)
    ["ff00::", 8], // multicast
  ] as const) {
    list.addSubnet(prefix, bits, "ipv6");
  }
  return list;
})();

/** Whether `ip` (an IPv4 or IPv6 literal) is in a range webhooks must not reach. */
export function isPrivateAddress(ip: string): boolean {
  const family = net.isIP(ip);
  if (family === 4) return BLOCKED.check(ip, "ipv4");
  if (family !== 6) return true; // not an address at all: never "public"
  if (BLOCKED.check(ip, "ipv6")) return true;
  const embedded = embeddedIpv4(ip);
  return embedded !== undefined && BLOCKED.check(embedded, "ipv4");
}

/**
 * Checks that a webhook URL is well formed: `http` or `https`, no credentials, at most 2048
 * characters. Returns it normalised; throws `invalid_argument` naming the problem.
 */
export function normalizeWebhookUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SwitchboardError("invalid_argument", `url: ${JSON.stringify(raw)} is not an absolute URL such as https://example.com/webhooks.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new SwitchboardError("invalid_argument", "url: must use https (or http).");
  }
  if (url.username || url.password) {
    throw new SwitchboardError("invalid_argument", "url: must not contain credentials; verify the webhook signature instead.");
  }
  if (url.href.length > URL_MAX_LENGTH) throw new SwitchboardError("invalid_argument", `url: must be at most ${URL_MAX_LENGTH} characters.`);
  url.hash = "";
  return url.href;
}

/**
 * The SSRF guard of webhook destinations, asked when an endpoint is created or changed and again
 * before every attempt (DNS answers change). A host name is resolved and every address it has is
 * checked: one private address is enough to refuse.
 *
 * Known gap: `fetch` resolves the name again when it connects, so a resolver that answers
 * differently within that instant (DNS rebinding) is not caught by this check alone; block
 * private ranges at the egress firewall as well when that matters.
 */
export class DestinationPolicy {
  private readonly lookup: HostLookup;

  /**
   * @param options.allowPrivate allow every destination (`WEBHOOK_ALLOW_PRIVATE`; for tests and
   *   private deployments). Default false.
   * @param options.lookup the resolver; default `dns.lookup` with `all: true`.
   */
  constructor(private readonly options: { allowPrivate: boolean; lookup?: HostLookup }) {
    this.lookup = options.lookup ?? ((hostname) => dnsLookup(hostname, { all: true, verbatim: true }));
  }

  /** Whether `url` (already normalised) may receive webhooks now. */
  async check(url: string): Promise<DestinationVerdict> {
    if (this.options.allowPrivate) return { verdict: "allowed" };
    const hostname = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
    if (net.isIP(hostname)) {
      return isPrivateAddress(hostname) ? { verdict: "refused", reason: `${hostname} is a private or reserved address` } : { verdict: "allowed" };
    }
    let addresses: { address: string }[];
    try {
      addresses = await this.lookup(hostname);
    } catch (err) {
      return { verdict: "unresolved", reason: `${hostname} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
    }
    if (addresses.length === 0) return { verdict: "unresolved", reason: `${hostname} has no address` };
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    return blocked ? { verdict: "refused", reason: `${hostname} resolves to ${blocked.address}, a private or reserved address` } : { verdict: "allowed" };
  }
}

/** The IPv4 address inside an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedIpv4(ip: string): string | undefined {
  const bytes = ipv6Bytes(ip);
  if (!bytes) return undefined;
  const isZero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const v4 = (at: number) => bytes.slice(at, at + 4).join(".");
  if (isZero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12);
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && isZero(4, 12)) return v4(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2);
  return undefined;
}

/** The 16 bytes of an IPv6 literal (zone id dropped), or undefined when it does not parse. */
function ipv6Bytes(ip: string): number[] | undefined {
  let text = ip.split("%")[0];
  const groups: number[] = [];
  // A trailing dotted quad becomes two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail, ...rest] = text.split("::");
  if (rest.length > 0) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  groups.push(...left, ...Array<number>(Math.max(0, missing)).fill(0), ...right);
  if (groups.some((g) => Number.isNaN(g) || g < 0 || g > 0xffff)) return undefined;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}
