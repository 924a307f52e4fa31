// Parsers for ipvsadm 1.31 output: the listing (`ipvsadm -Ln`, with `--stats` or `--rate`, or for one
// service), the save format (`ipvsadm -S -n`) and `ipvsadm -L --timeout`. Only numeric output (-n) is
// accepted: with names, ipvsadm cuts IPv4 service names at 33 characters and the address is lost.
import { ipv4ValueAt, isIpv6 } from '../net/ip.ts';
import { decimalAt, LineScanner } from './scan.ts';
import {
  ParseError,
  type IpvsCounters,
  type IpvsProtocol,
  type IpvsRealServer,
  type IpvsService,
  type IpvsTable,
  type IpvsTimeouts,
} from './types.ts';

/** Which columns a listing has: the plain rules, or the counters of `--stats` / `--rate`. */
export type IpvsListing = 'rules' | 'stats' | 'rate';

/** Counter columns as ipvsadm prints them (print_title); the parsed `counters` use these names as keys. */
export const IPVS_COUNTER_COLUMNS: Record<'stats' | 'rate', readonly string[]> = {
  stats: ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'],
  rate: ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'],
};

const LIST_FORMAT = 'ipvsadm -Ln';
const SAVE_FORMAT = 'ipvsadm -S -n';
const TIMEOUT_FORMAT = 'ipvsadm -L --timeout';

const VERSION_LINE = /^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)$/;
const SCHEDULER_NAME = /^[a-z][a-z0-9]*$/;
const FORWARD_METHODS = ['Masq', 'Local', 'Tunnel', 'Route'] as const;
// Save-format switches of each forwarding method. "-g" is printed for Route and for Local alike,
// so a saved Local real server reads back as Route.
const FORWARD_SWITCHES = new Map([['-m', 'Masq'], ['-g', 'Route'], ['-i', 'Tunnel']]);

/**
 * Parses any ipvsadm listing netlab reads and tells them apart by their first line:
 * `-A`/`-a` lines are the save format; anything else is a listing, whose title says rules, --stats or --rate.
 * Empty text is an empty table (`ipvsadm -S -n` prints nothing when no virtual service exists).
 */
export function parseIpvsadm(text: string, source = '<input>'): IpvsTable {
  const scan = new LineScanner(text, LIST_FORMAT, source);
  while (scan.nextLine()) {
    if (scan.isBlank()) continue;
    if (scan.lineStartsWith('-A ') || scan.lineStartsWith('-a ')) return parseIpvsSave(text, source);
    if (scan.lineStartsWith('Timeout (')) {
      throw scan.error('this is `ipvsadm -L --timeout` output, which holds no virtual services: read it with parseIpvsTimeout');
    }
    return parseIpvsList(text, source);
  }
  return { services: [] };
}

/** `ipvsadm -Ln` (optionally `--stats`, `--rate`, or `-t/-u/-f` for one service). Header lines are optional for the rules listing. */
export function parseIpvsList(text: string, source = '<input>'): IpvsTable {
  const scan = new LineScanner(text, LIST_FORMAT, source);
  const services: IpvsService[] = [];
  let listing: IpvsListing | null = null;
  let expectRealServerTitle = false;
  let current: IpvsService | null = null;
  while (scan.nextLine()) {
    // Real-server lines are most of the text: they are recognised first.
    if (scan.lineStartsWith('  -> ') && !expectRealServerTitle) {
      if (current === null) throw scan.error('a real server line before any virtual service line');
      scan.seek(5);
      current.realServers.push(listing === 'rules' ? readRealServer(scan) : readCounterRealServer(scan, listing!));
      continue;
    }
    if (scan.isBlank()) continue;
    if (expectRealServerTitle) {
      checkRealServerTitle(scan, listing!);
      expectRealServerTitle = false;
      continue;
    }
    if (scan.lineStartsWith('IP Virtual Server version')) {
      if (listing !== null) throw scan.error('the version line must be the first line of the listing');
      if (!VERSION_LINE.test(scan.line())) throw scan.error('malformed version line');
      continue;
    }
    if (scan.lineStartsWith('Prot ')) {
      if (listing !== null) throw scan.error('a second title line: is this two listings concatenated?');
      listing = listingOfTitle(scan);
      expectRealServerTitle = true;
      continue;
    }
    listing ??= 'rules';
    current = listing === 'rules' ? readService(scan) : readCounterService(scan, listing);
    services.push(current);
  }
  if (expectRealServerTitle) throw scan.error('the second title line ("  -> RemoteAddress:Port ...") is missing');
  return { services };
}

function listingOfTitle(scan: LineScanner): IpvsListing {
  const columns = scan.remainingTokens().join(' ');
  switch (columns) {
    case 'Prot LocalAddress:Port Scheduler Flags':
      return 'rules';
    case `Prot LocalAddress:Port ${IPVS_COUNTER_COLUMNS.stats.join(' ')}`:
      return 'stats';
    case `Prot LocalAddress:Port ${IPVS_COUNTER_COLUMNS.rate.join(' ')}`:
      return 'rate';
  }
  if (columns.includes('Uthreshold')) throw scan.error('the --thresholds listing is not supported');
  if (columns.includes('PersistConn')) throw scan.error('the --persistent-conn listing is not supported');
  throw scan.error('unknown title line');
}

function checkRealServerTitle(scan: LineScanner, listing: IpvsListing): void {
  const columns = scan.remainingTokens().join(' ');
  const expected = listing === 'rules' ? '-> RemoteAddress:Port Forward Weight ActiveConn InActConn' : '-> RemoteAddress:Port';
  if (columns === expected) return;
  if (columns.includes('TunnelInfo')) throw scan.error('the --tun-info listing is not supported');
  throw scan.error(`expected the title line ${JSON.stringify(expected)}`);
}

function newService(protocol: IpvsProtocol): IpvsService {
  return {
    protocol,
    address: null,
    port: null,
    fwmark: null,
    scheduler: null,
    persistent: null,
    netmask: null,
    flags: [],
    realServers: [],
  };
}

/** Reads "TCP  10.96.0.1:443", "TCP  [fd00::a]:53" or "FWM  100 [IPv6]", the start of every service line. */
function readServiceName(scan: LineScanner): IpvsService {
  scan.expectToken('protocol');
  const protocol = listedProtocol(scan);
  const service = newService(protocol);
  if (protocol === 'FWM') {
    service.fwmark = readFirewallMark(scan);
    if (scan.acceptToken('IPv6')) service.fwmarkIPv6 = true;
  } else {
    scan.expectToken('LocalAddress:Port');
    service.address = endpointAddress(scan, 'LocalAddress');
    service.port = endpointPort(scan, 'LocalAddress:Port');
  }
  return service;
}

/** ipvsadm 1.31 prints the 32-bit mark with "%d", so marks from 2^31 up appear negative (fixed after 1.31): both read back unsigned. */
function readFirewallMark(scan: LineScanner): number {
  scan.expectToken('firewall mark');
  const mark = scan.tokenInt();
  if (mark === null || mark < -(2 ** 31) || mark > 0xffffffff) {
    throw scan.error(`firewall mark ${JSON.stringify(scan.token())} is not a 32-bit number`);
  }
  return mark >>> 0;
}

function listedProtocol(scan: LineScanner): IpvsProtocol {
  if (scan.tokenIs('TCP')) return 'TCP';
  if (scan.tokenIs('UDP')) return 'UDP';
  if (scan.tokenIs('SCTP')) return 'SCTP';
  if (scan.tokenIs('FWM')) return 'FWM';
  throw scan.error(`unknown line (${JSON.stringify(scan.token())} is not TCP, UDP, SCTP or FWM)`);
}

/** A rules-listing service line: name, scheduler, then " (flags)", " persistent N", " mask M", " pe NAME", " ops". */
function readService(scan: LineScanner): IpvsService {
  const service = readServiceName(scan);
  scan.expectToken('scheduler');
  const scheduler = scan.token();
  if (!SCHEDULER_NAME.test(scheduler)) {
    throw scan.error(`scheduler ${JSON.stringify(scheduler)} is not a scheduler name (a --stats or --rate listing without its title line?)`);
  }
  service.scheduler = scheduler;
  let persistenceEngine: string | null = null;
  let onePacket = false;
  while (scan.nextToken()) {
    if (scan.text.charCodeAt(scan.tokenStart) === 40 /* ( */ && service.flags.length === 0 && service.persistent === null) {
      service.flags = schedulerFlags(scan, scan.tokenStart + 1, scan.text.charCodeAt(scan.tokenEnd - 1) === 41 ? scan.tokenEnd - 1 : -1);
    } else if (scan.tokenIs('persistent') && service.persistent === null) {
      service.persistent = nextUint(scan, 'persistent timeout');
    } else if (scan.tokenIs('mask') && service.persistent !== null && service.netmask === null) {
      scan.expectToken('persistence mask');
      service.netmask = scan.token();
    } else if (scan.tokenIs('pe') && service.persistent !== null && persistenceEngine === null) {
      scan.expectToken('persistence engine');
      persistenceEngine = scan.token();
    } else if (scan.tokenIs('ops') && !onePacket) {
      onePacket = true;
    } else {
      throw scan.error(`unexpected ${JSON.stringify(scan.token())} in the service's flags`);
    }
  }
  addOptionFlags(service, persistenceEngine, onePacket);
  return service;
}

/** "sh-fallback,sh-port" in text[start, end) -> ["sh-fallback", "sh-port"]. end -1: the ")" was missing. */
function schedulerFlags(scan: LineScanner, start: number, end: number): string[] {
  const inner = end === -1 ? '' : scan.text.slice(start, end);
  if (!/^[a-z0-9-]+(,[a-z0-9-]+)*$/.test(inner)) throw scan.error(`malformed scheduler flags ${JSON.stringify(scan.token())}`);
  return inner.split(',');
}

/** Flags after the scheduler flags, in the order ipvsadm prints them in the listing. */
function addOptionFlags(service: IpvsService, persistenceEngine: string | null, onePacket: boolean): void {
  if (persistenceEngine !== null) service.flags.push(`pe:${persistenceEngine}`);
  if (onePacket) service.flags.push('ops');
}

function readCounterService(scan: LineScanner, listing: 'stats' | 'rate'): IpvsService {
  const service = readServiceName(scan);
  service.counters = readCounters(scan, listing);
  return service;
}

/** "  -> 10.244.0.137:53   Masq    1      0          0" (the cursor is past "  -> "). */
function readRealServer(scan: LineScanner): IpvsRealServer {
  scan.expectToken('RemoteAddress:Port');
  const address = endpointAddress(scan, 'RemoteAddress');
  const port = endpointPort(scan, 'RemoteAddress:Port');
  scan.expectToken('Forward');
  const forward = forwardMethod(scan);
  const weight = nextUint(scan, 'Weight');
  const activeConn = nextUint(scan, 'ActiveConn');
  const inactConn = nextUint(scan, 'InActConn');
  scan.expectLineEnd('InActConn');
  return { address, port, forward, weight, activeConn, inactConn };
}

function forwardMethod(scan: LineScanner): string {
  for (const method of FORWARD_METHODS) if (scan.tokenIs(method)) return method;
  throw scan.error(`Forward ${JSON.stringify(scan.token())} is not Masq, Local, Tunnel or Route`);
}

function readCounterRealServer(scan: LineScanner, listing: 'stats' | 'rate'): IpvsRealServer {
  scan.expectToken('RemoteAddress:Port');
  const address = endpointAddress(scan, 'RemoteAddress');
  const port = endpointPort(scan, 'RemoteAddress:Port');
  const counters = readCounters(scan, listing);
  return { address, port, forward: null, weight: null, activeConn: null, inactConn: null, counters };
}

/** The five counter columns. Values of 10^8 and more are printed scaled ("123456K"): they read back as 123456000. */
function readCounters(scan: LineScanner, listing: 'stats' | 'rate'): IpvsCounters {
  const counters: IpvsCounters = {};
  for (const column of IPVS_COUNTER_COLUMNS[listing]) {
    scan.expectToken(column);
    counters[column] = counterValue(scan, column);
  }
  scan.expectLineEnd('the counters');
  return counters;
}

const COUNTER_SCALES = new Map([['K', 1e3], ['M', 1e6], ['G', 1e9], ['T', 1e12]]);

function counterValue(scan: LineScanner, column: string): number {
  const scale = COUNTER_SCALES.get(scan.text[scan.tokenEnd - 1]!);
  const value = decimalAt(scan.text, scan.tokenStart, scale === undefined ? scan.tokenEnd : scan.tokenEnd - 1);
  if (value === -1) throw scan.error(`${column} ${JSON.stringify(scan.token())} is not a counter`);
  return scale === undefined ? value : value * scale;
}

function nextUint(scan: LineScanner, what: string): number {
  const value = scan.nextUint();
  if (value === -1) {
    throw scan.error(scan.tokenStart === scan.tokenEnd ? `missing ${what}` : `${what} ${JSON.stringify(scan.token())} is not a number`);
  }
  return value;
}

/**
 * The address of an "addr:port" or "[addr]:port" token, without brackets. The current token is then
 * narrowed to the port digits, which endpointPort() reads.
 */
function endpointAddress(scan: LineScanner, what: string): string {
  const text = scan.text;
  const start = scan.tokenStart;
  const end = scan.tokenEnd;
  let colon = start;
  while (colon < end && text.charCodeAt(colon) !== 58 /* : */) colon++;
  // The usual case, checked without slicing first: "a.b.c.d:port".
  if (colon < end && ipv4ValueAt(text, start, colon) >= 0) {
    scan.tokenStart = colon + 1;
    return text.slice(start, colon);
  }
  const closing = text.lastIndexOf(']:', end - 1);
  if (text.charCodeAt(start) === 91 /* [ */ && closing > start) {
    const address = text.slice(start + 1, closing);
    if (isIpv6(address)) {
      scan.tokenStart = closing + 2;
      return address;
    }
  }
  throw scan.error(`${what} ${JSON.stringify(scan.token())} is not "IPv4 address:port" or "[IPv6 address]:port" (ipvsadm -n prints numbers)`);
}

function endpointPort(scan: LineScanner, what: string): number {
  const port = scan.tokenUint();
  if (port === -1 || port > 65535) {
    throw scan.error(`${what} port ${JSON.stringify(scan.token())} is not a port number (ipvsadm -n prints numbers)`);
  }
  return port;
}

/**
 * `ipvsadm -S -n`: "-A -t 10.96.0.1:443 -s rr [-p N [-M mask]] [--pe NAME] [-o] [-b flags]" per service and
 * "-a -t 10.96.0.1:443 -r 10.244.0.5:6443 -m -w 1" per real server. Real servers get null connection counts
 * (the save format has none). Tunnel options (--tun-type ...) are checked but not kept: the listing does not show them either.
 */
export function parseIpvsSave(text: string, source = '<input>'): IpvsTable {
  const scan = new LineScanner(text, SAVE_FORMAT, source);
  const services: IpvsService[] = [];
  const byKey = new Map<string, IpvsService>();
  while (scan.nextLine()) {
    if (scan.isBlank()) continue;
    scan.expectToken('command');
    if (scan.tokenIs('-A')) {
      const service = readSavedServiceName(scan);
      const key = savedServiceKey(service);
      if (byKey.has(key)) throw scan.error('the virtual service was already added');
      readSavedServiceOptions(scan, service);
      byKey.set(key, service);
      services.push(service);
    } else if (scan.tokenIs('-a')) {
      const service = byKey.get(savedServiceKey(readSavedServiceName(scan)));
      if (!service) throw scan.error('a real server of a virtual service that no earlier -A line added');
      service.realServers.push(readSavedRealServer(scan));
    } else {
      throw scan.error(`unknown line (${JSON.stringify(scan.token())} is not -A or -a)`);
    }
  }
  return { services };
}

function savedServiceKey(service: IpvsService): string {
  if (service.protocol === 'FWM') return `FWM ${service.fwmark}${service.fwmarkIPv6 ? ' IPv6' : ''}`;
  return `${service.protocol} ${service.address} ${service.port}`;
}

const SAVE_PROTOCOL_SWITCHES = new Map<string, IpvsProtocol>([['-t', 'TCP'], ['-u', 'UDP'], ['--sctp-service', 'SCTP'], ['-f', 'FWM']]);

/** "-t 10.96.0.1:443", "-u [fd00::a]:53", "--sctp-service ...", "-f 100 [-6]". */
function readSavedServiceName(scan: LineScanner): IpvsService {
  scan.expectToken('service switch (-t, -u, --sctp-service or -f)');
  const protocol = SAVE_PROTOCOL_SWITCHES.get(scan.token());
  if (!protocol) throw scan.error(`${JSON.stringify(scan.token())} is not -t, -u, --sctp-service or -f`);
  const service = newService(protocol);
  if (protocol === 'FWM') {
    service.fwmark = readFirewallMark(scan);
    if (scan.acceptToken('-6')) service.fwmarkIPv6 = true;
  } else {
    scan.expectToken('service address');
    service.address = endpointAddress(scan, 'service address');
    service.port = endpointPort(scan, 'service address');
  }
  return service;
}

function readSavedServiceOptions(scan: LineScanner, service: IpvsService): void {
  let persistenceEngine: string | null = null;
  let onePacket = false;
  let schedulerFlagList: string[] = [];
  while (scan.nextToken()) {
    const option = scan.token();
    switch (option) {
      case '-s':
        scan.expectToken('scheduler');
        if (!SCHEDULER_NAME.test(scan.token())) throw scan.error(`scheduler ${JSON.stringify(scan.token())} is not a scheduler name`);
        service.scheduler = scan.token();
        break;
      case '-p':
        service.persistent = nextUint(scan, 'persistent timeout');
        break;
      case '-M':
        scan.expectToken('persistence mask');
        service.netmask = scan.token();
        break;
      case '--pe':
        scan.expectToken('persistence engine');
        persistenceEngine = scan.token();
        break;
      case '-o':
        onePacket = true;
        break;
      case '-b':
        scan.expectToken('scheduler flags');
        schedulerFlagList = schedulerFlags(scan, scan.tokenStart, scan.tokenEnd);
        break;
      default:
        throw scan.error(`unknown virtual service option ${JSON.stringify(option)}`);
    }
  }
  if (service.scheduler === null) throw scan.error('the virtual service has no scheduler (-s)');
  service.flags = schedulerFlagList;
  addOptionFlags(service, persistenceEngine, onePacket);
}

const TUNNEL_TYPES = new Set(['ipip', 'gue', 'gre']);
const TUNNEL_CHECKSUM_SWITCHES = new Set(['--tun-nocsum', '--tun-csum', '--tun-remcsum']);

function readSavedRealServer(scan: LineScanner): IpvsRealServer {
  let address: string | null = null;
  let port = 0;
  let forward: string | null = null;
  let weight: number | null = null;
  while (scan.nextToken()) {
    const option = scan.token();
    if (option === '-r') {
      scan.expectToken('real server address');
      address = endpointAddress(scan, 'real server address');
      port = endpointPort(scan, 'real server address');
    } else if (option === '-w') {
      weight = nextUint(scan, 'weight');
    } else if (FORWARD_SWITCHES.has(option)) {
      forward = FORWARD_SWITCHES.get(option)!;
    } else if (option === '--tun-type') {
      scan.expectToken('tunnel type');
      if (!TUNNEL_TYPES.has(scan.token())) throw scan.error(`tunnel type ${JSON.stringify(scan.token())} is not ipip, gue or gre`);
    } else if (option === '--tun-port') {
      nextUint(scan, 'tunnel port');
    } else if (!TUNNEL_CHECKSUM_SWITCHES.has(option)) {
      throw scan.error(`unknown real server option ${JSON.stringify(option)}`);
    }
  }
  if (address === null) throw scan.error('the real server has no address (-r)');
  if (forward === null) throw scan.error('the real server has no forwarding method (-m, -g or -i)');
  if (weight === null) throw scan.error('the real server has no weight (-w)');
  return { address, port, forward, weight, activeConn: null, inactConn: null };
}

/** `ipvsadm -L --timeout`: "Timeout (tcp tcpfin udp): 900 120 300". */
export function parseIpvsTimeout(text: string, source = '<input>'): IpvsTimeouts {
  const scan = new LineScanner(text, TIMEOUT_FORMAT, source);
  let timeouts: IpvsTimeouts | null = null;
  while (scan.nextLine()) {
    if (scan.isBlank()) continue;
    if (timeouts !== null) throw scan.error('more than one timeout line');
    if (!scan.lineStartsWith('Timeout (tcp tcpfin udp): ')) throw scan.error('expected "Timeout (tcp tcpfin udp): TCP TCPFIN UDP"');
    scan.seek('Timeout (tcp tcpfin udp): '.length);
    timeouts = { tcp: nextUint(scan, 'tcp timeout'), tcpfin: nextUint(scan, 'tcpfin timeout'), udp: nextUint(scan, 'udp timeout') };
    scan.expectLineEnd('the udp timeout');
  }
  if (timeouts === null) throw new ParseError(TIMEOUT_FORMAT, 1, '', 'empty output', source);
  return timeouts;
}
