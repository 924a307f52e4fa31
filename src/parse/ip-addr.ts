// Parser for iproute2 `ip -o addr` (one line per address), the node's own list of its addresses.
// Line layout (iproute2 ip/ipaddress.c print_addrinfo, checked against iproute2 6.1 output):
//   INDEX: IFNAME    inet|inet6 LOCAL[ peer PEER]/PREFIX [brd B] [any A] [metric M] scope S [FLAGS...] [LABEL]\       valid_lft V preferred_lft P
// The IPv4 label is glued to the "\" that joins the lifetimes line; IPv6 addresses have no label.
import { isIpv4, isIpv6 } from '../net/ip.ts';
import { decimalAt, LineScanner } from './scan.ts';
import { ParseError, type InterfaceAddress, type InterfaceAddressTable } from './types.ts';

const FORMAT = 'ip -o addr';
const FAMILIES = new Map<string, InterfaceAddress['family']>([
  ['inet', 'IPv4'],
  ['inet6', 'IPv6'],
]);
const LINE_SHAPE = '"INDEX: IFNAME    inet|inet6 ADDRESS/PREFIX ... scope SCOPE ..."';

/** Parses `ip -o addr` (also `ip -o -4 addr`, `ip -o addr show dev X`). Blank lines are ignored. */
export function parseIpAddr(text: string, source = '<input>'): InterfaceAddressTable {
  const scan = new LineScanner(text, FORMAT, source);
  const addresses: InterfaceAddress[] = [];
  while (scan.nextLine()) {
    if (scan.isBlank()) continue;
    addresses.push(parseAddressLine(scan));
  }
  if (addresses.length === 0) {
    throw new ParseError(FORMAT, 1, '', 'no address lines (a node always has addresses; was the command run on the node?)', source);
  }
  return { addresses };
}

function parseAddressLine(scan: LineScanner): InterfaceAddress {
  const line = scan.line();
  rejectOtherListings(scan, line);
  const backslash = line.indexOf('\\');
  const tokens = (backslash === -1 ? line : line.slice(0, backslash)).trim().split(/\s+/);
  if (backslash !== -1) checkLifetimes(scan, line.slice(backslash + 1));

  const indexToken = tokens[0]!;
  const index = indexToken.endsWith(':') ? decimalAt(indexToken, 0, indexToken.length - 1) : -1;
  if (index < 0) throw scan.error(`expected ${LINE_SHAPE}; ${JSON.stringify(indexToken)} is not an interface index such as "2:"`);
  const iface = tokens[1];
  if (iface === undefined) throw scan.error('missing the interface name after the index');
  const family = FAMILIES.get(tokens[2] ?? '');
  if (!family) throw scan.error(`expected inet or inet6 after the interface name, found ${JSON.stringify(tokens[2] ?? '')}`);
  const isFamily = family === 'IPv4' ? isIpv4 : isIpv6;

  let i = 3;
  const next = (what: string): string => {
    const token = tokens[i++];
    if (token === undefined) throw scan.error(`missing ${what}`);
    return token;
  };
  const addressOf = (text: string, what: string): string => {
    if (!isFamily(text)) throw scan.error(`${what} ${JSON.stringify(text)} is not an ${family} address`);
    return text;
  };
  // "10.0.0.1/24", or for a point-to-point address "10.0.0.1 peer 10.0.0.2/32" (the length belongs to both)
  const firstToken = next('the address');
  const pointToPoint = tokens[i] === 'peer';
  if (pointToPoint) i++;
  const withPrefix = pointToPoint ? next('the peer address') : firstToken;
  const slash = withPrefix.lastIndexOf('/');
  if (slash === -1) throw scan.error(`${JSON.stringify(withPrefix)} has no prefix length (ADDRESS/PREFIX)`);
  const beforePrefix = withPrefix.slice(0, slash);
  const address = addressOf(pointToPoint ? firstToken : beforePrefix, 'address');
  const peer = pointToPoint ? addressOf(beforePrefix, 'peer address') : null;
  const prefixLength = decimalAt(withPrefix, slash + 1, withPrefix.length);
  if (prefixLength < 0 || prefixLength > (family === 'IPv4' ? 32 : 128)) throw scan.error(`prefix length in ${JSON.stringify(withPrefix)} is not valid for ${family}`);

  let broadcast: string | null = null;
  let metric: number | null = null;
  let scope: string | null = null;
  while (scope === null) {
    const keyword = next('"scope"');
    if (keyword === 'brd') broadcast = addressOf(next('the broadcast address'), 'broadcast');
    else if (keyword === 'any') addressOf(next('the anycast address'), 'anycast');
    else if (keyword === 'metric') {
      const value = next('the metric');
      metric = decimalAt(value, 0, value.length);
      if (metric < 0) throw scan.error(`metric ${JSON.stringify(value)} is not a number`);
    } else if (keyword === 'scope') scope = next('the scope');
    else throw scan.error(`unexpected ${JSON.stringify(keyword)} before "scope"`);
  }

  // The kernel requires an IPv4 label to be the interface name or start with "name:"; only IPv4 has one.
  const rest = tokens.slice(i);
  const last = rest.at(-1);
  const label = family === 'IPv4' && last !== undefined && (last === iface || last.startsWith(`${iface}:`)) ? last : null;
  const flags = label === null ? rest : rest.slice(0, -1);
  for (const flag of flags) {
    if (!/^[a-z][a-z-]*$|^flags$|^[0-9a-f]{2}$/.test(flag)) throw scan.error(`unexpected ${JSON.stringify(flag)} among the address flags`);
  }
  return { index, iface, family, address, prefixLength, peer, broadcast, scope, flags, metric, label };
}

/** The lifetimes after "\": "valid_lft forever preferred_lft forever" or with "3597sec". */
function checkLifetimes(scan: LineScanner, text: string): void {
  if (!/^\s*valid_lft (forever|\d+sec) preferred_lft (forever|\d+sec)\s*$/.test(text)) {
    throw scan.error(`unexpected text after "\\": expected "valid_lft ... preferred_lft ...", found ${JSON.stringify(text.trim())}`);
  }
}

/** Names the listing when it is another shape of `ip` output, so the message says what to run instead. */
function rejectOtherListings(scan: LineScanner, line: string): void {
  if (/^\d+: \S+: </.test(line)) {
    throw scan.error(`this is an interface line of \`ip addr\` or \`ip link\`; run \`ip -o addr\` (one line per address)`);
  }
  if (/^\s+(inet6?|link\/\S+|valid_lft|altname)\b/.test(line)) {
    throw scan.error('this is `ip addr` without -o (several lines per interface); run `ip -o addr`');
  }
}
