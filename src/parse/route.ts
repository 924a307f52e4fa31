// Parser for net-tools `route -n` (IPv4) and `route -n -A inet6` (IPv6) output.
// Columns are separated by whitespace rather than cut at fixed offsets: an IPv6 destination longer
// than its 30-character column pushes the rest of the row to the right, and hand-trimmed copies
// (articles, chat) lose their padding.
import { isIpv4, isIpv6, maskToPrefix } from '../net/ip.ts';
import { LineScanner } from './scan.ts';
import { ParseError, type RouteEntry, type RouteTable } from './types.ts';

const FORMAT = 'route -n';

type Family = 'IPv4' | 'IPv6';

const TITLES = new Map<string, Family>([
  ['Kernel IP routing table', 'IPv4'],
  ['Kernel IPv6 routing table', 'IPv6'],
]);

// Column headers of net-tools 2.10 (lib/inet_gr.c, lib/inet6_gr.c), compared token by token.
const COLUMN_HEADERS = new Map<string, Family>([
  ['Destination Gateway Genmask Flags Metric Ref Use Iface', 'IPv4'],
  ['Destination Next Hop Flag Met Ref Use If', 'IPv6'],
]);

/** Parses `route -n` or `route -n -A inet6`. Header lines are optional; blank lines are ignored. */
export function parseRouteN(text: string, source = '<input>'): RouteTable {
  const scan = new LineScanner(text, FORMAT, source);
  const routes: RouteEntry[] = [];
  let family: Family | null = null;
  let sawContent = false;
  while (scan.nextLine()) {
    if (scan.isBlank()) continue;
    sawContent = true;
    const headerFamily = headerLineFamily(scan);
    if (headerFamily) {
      if (routes.length > 0) throw scan.error('a header line after route rows: is this two listings concatenated?');
      if (family && family !== headerFamily) throw scan.error(`an ${headerFamily} header in an ${family} listing`);
      family = headerFamily;
      continue;
    }
    scan.expectToken('Destination');
    const destination = scan.token();
    const rowFamily: Family = destination.includes(':') ? 'IPv6' : 'IPv4';
    if (family && family !== rowFamily) throw scan.error(`an ${rowFamily} route in an ${family} listing`);
    family = rowFamily;
    routes.push(rowFamily === 'IPv4' ? parseIpv4Row(scan, destination) : parseIpv6Row(scan, destination));
  }
  if (!sawContent) {
    throw new ParseError(FORMAT, 1, '', 'empty output (route -n always prints its "Kernel IP routing table" header)', source);
  }
  return family === 'IPv6' ? { routes, ipv6: true } : { routes };
}

/** The family a title or column-header line announces; null for a route row; throws for other listings of `route`. */
function headerLineFamily(scan: LineScanner): Family | null {
  if (!scan.lineStartsWith('Kernel ') && !scan.lineStartsWith('Destination ')) return null;
  const line = scan.remainingTokens().join(' ');
  const family = TITLES.get(line) ?? COLUMN_HEADERS.get(line);
  if (family) return family;
  if (line.includes('cache')) throw scan.error('the routing cache (route -C) is not supported; use route -n');
  if (line.includes('MSS')) throw scan.error('the extended layout (route -e / -ee) is not supported; use route -n');
  throw scan.error('unknown header line');
}

function parseIpv4Row(scan: LineScanner, destination: string): RouteEntry {
  if (!isIpv4(destination)) throw scan.error(`Destination ${JSON.stringify(destination)} is not an IPv4 address`);
  scan.expectToken('Gateway');
  const gateway = scan.token();
  // Reject routes (unreachable, prohibit) print "-" for Gateway, Ref and Iface.
  if (gateway !== '-' && !isIpv4(gateway)) throw scan.error(`Gateway ${JSON.stringify(gateway)} is not an IPv4 address`);
  scan.expectToken('Genmask');
  const genmask = scan.token();
  if (!isIpv4(genmask) || !isNetmask(genmask)) throw scan.error(`Genmask ${JSON.stringify(genmask)} is not a netmask`);
  const { flags, metric } = parseFlagsAndMetric(scan);
  scan.expectToken('Ref');
  const ref = scan.tokenIs('-') ? null : scan.tokenUint();
  if (ref === -1) throw scan.error(`Ref ${JSON.stringify(scan.token())} is not a number or "-"`);
  const use = parseUse(scan);
  scan.expectToken('Iface');
  const iface = scan.token();
  scan.expectLineEnd('Iface');
  return { destination, gateway, genmask, flags, metric, ref, use, iface };
}

/** An IPv6 row: "fd00::/64  ::  U  256 4  0 eth0". The prefix length goes into `genmask` as text ("64"). */
function parseIpv6Row(scan: LineScanner, target: string): RouteEntry {
  const slash = target.indexOf('/');
  const destination = slash === -1 ? target : target.slice(0, slash);
  const genmask = slash === -1 ? '' : target.slice(slash + 1);
  if (!isIpv6(destination) || !/^\d{1,3}$/.test(genmask) || Number(genmask) > 128) {
    throw scan.error(`Destination ${JSON.stringify(target)} is not an IPv6 prefix (address/length)`);
  }
  scan.expectToken('Next Hop');
  const gateway = scan.token();
  if (!isIpv6(gateway)) throw scan.error(`Next Hop ${JSON.stringify(gateway)} is not an IPv6 address`);
  const { flags, metric } = parseFlagsAndMetric(scan);
  scan.expectToken('Ref');
  const ref = scan.tokenUint();
  if (ref === -1) throw scan.error(`Ref ${JSON.stringify(scan.token())} is not a number`);
  const use = parseUse(scan);
  scan.expectToken('If');
  const iface = scan.token();
  scan.expectLineEnd('If');
  return { destination, gateway, genmask: String(Number(genmask)), flags, metric, ref, use, iface };
}

function parseFlagsAndMetric(scan: LineScanner): { flags: string; metric: number } {
  scan.expectToken('Flags');
  const flags = scan.token();
  if (!/^[A-Za-z!]+$/.test(flags)) throw scan.error(`Flags ${JSON.stringify(flags)} are not route flags (letters and "!")`);
  scan.expectToken('Metric');
  // Printed as a signed int: a metric of 0xffffffff shows as -1.
  const metric = scan.tokenInt();
  if (metric === null) throw scan.error(`Metric ${JSON.stringify(scan.token())} is not a number`);
  return { flags, metric };
}

function parseUse(scan: LineScanner): number {
  scan.expectToken('Use');
  const use = scan.tokenUint();
  if (use === -1) throw scan.error(`Use ${JSON.stringify(scan.token())} is not a number`);
  return use;
}

function isNetmask(mask: string): boolean {
  try {
    maskToPrefix(mask);
    return true;
  } catch {
    return false;
  }
}
