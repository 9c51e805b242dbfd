import { AppError } from '../../http/app-error.js';

/**
 * The server POSTs to whatever endpoint a device or browser names, so an endpoint is accepted
 * only if that POST cannot be aimed at the server's own network (SSRF): https only, no
 * credentials in the URL, and no host that is `localhost` or a literal loopback, private,
 * link-local, shared (CGNAT), multicast or unspecified address, IPv4 or IPv6 (v4-mapped
 * included). The URL parser has already normalised `0x7f.1`, `2130706433` and the like to
 * dotted IPv4. DNS names are not resolved for this check: a public name pointing at a private
 * address passes it (the operator's egress firewall is the bound for that), and deliveries never
 * follow redirects. PUSH_ALLOW_INSECURE_ENDPOINTS=true lifts all of it, for local development and
 * tests only.
 */
export function checkPushEndpoint(endpoint: string, allowInsecure: boolean): void {
  const url = new URL(endpoint);
  const refuse = (why: string) => {
    throw new AppError('validation_failed', `body.endpoint: ${why}`);
  };
  if (url.username || url.password) refuse('must not carry credentials');
  if (allowInsecure) return;
  if (url.protocol !== 'https:') refuse('must be https');
  const host = url.hostname.toLowerCase().replace(/\.+$/, ''); // `localhost.` is localhost
  if (host === 'localhost' || host.endsWith('.localhost')) refuse('must not be localhost');
  if (host.startsWith('[') ? isInternalIpv6(host.slice(1, -1)) : isInternalIpv4(host)) refuse('must not be a loopback, private or link-local address');
}

function ipv4Bytes(host: string): number[] | undefined {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

function isInternalIpv4(host: string): boolean {
  const b = ipv4Bytes(host);
  if (!b) return false;
  const [a, c] = [b[0]!, b[1]!];
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && c >= 64 && c <= 127) || // shared address space (CGNAT)
    (a === 169 && c === 254) ||
    (a === 172 && c >= 16 && c <= 31) ||
    (a === 192 && c === 168) ||
    (a === 192 && c === 0 && b[2] === 0) || // IETF protocol assignments
    (a === 198 && (c === 18 || c === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

/** The eight 16-bit groups of an IPv6 address as the URL parser prints it (compressed, lowercase). */
function ipv6Groups(host: string): number[] | undefined {
  let text = host;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    if (!b) return undefined;
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function isInternalIpv6(host: string): boolean {
  const g = ipv6Groups(host);
  if (!g) return true; // unparseable: refuse rather than guess
  const embeddedV4 = () => `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  // ::, ::1, IPv4-compatible and v4-mapped addresses, and NAT64: judged by the IPv4 inside.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0 || g[5] === 0xffff)) return isInternalIpv4(embeddedV4());
  if (g[0] === 0x64 && g[1] === 0xff9b) return isInternalIpv4(embeddedV4());
  const first = g[0]!;
  return (
    (first & 0xfe00) === 0xfc00 || // unique local
    (first & 0xffc0) === 0xfe80 || // link-local
    (first & 0xffc0) === 0xfec0 || // site-local (deprecated)
    (first & 0xff00) === 0xff00 // multicast
  );
}
