// Renders IPVS tables in ipvsadm 1.31's listing layout (ipvsadm.c print_title, print_service_entry,
// print_largenum), byte for byte:
//   service  "%-4s %s" protocol + addr:port (IPv4 cut at 33 characters, IPv6 as [addr]:port, not cut),
//            then " scheduler", " (flags)", " persistent N", " mask M", " pe NAME", " ops"
//   real     "  -> %-28s %-7s %-6d %-10u %-10u" (IPv4 cut at 28), so every line ends in spaces
//   --stats / --rate: the name padded to 33 (28 after "  -> "), then five counters of at least 9 characters.
// A value the tool did not print (null, e.g. the connection counts of an expected real server) renders as "-".
import { LineWriter } from './lines.ts';
import { padLeft, padRight } from './pad.ts';
import { IPVS_COUNTER_COLUMNS, type IpvsListing } from '../parse/ipvsadm.ts';
import type { IpvsCounters, IpvsRealServer, IpvsService, IpvsTable } from '../parse/types.ts';

export interface IpvsRenderOptions {
  /** which listing: plain rules (default), `--stats` or `--rate` */
  listing?: IpvsListing;
  /** the "IP Virtual Server version" line; ipvsadm leaves it out when listing one service (-t/-u/-f). Default true. */
  versionLine?: boolean;
  /** kernel IPVS version and connection table size of the version line (a stock kernel: 1.2.1, 4096) */
  version?: string;
  size?: number;
}

export function renderIpvsadm(table: IpvsTable, options: IpvsRenderOptions = {}): string {
  const listing = options.listing ?? 'rules';
  const out = new LineWriter();
  if (options.versionLine !== false) out.line(`IP Virtual Server version ${options.version ?? '1.2.1'} (size=${options.size ?? 4096})`);
  out.line(titleLines(listing));
  for (const service of table.services) {
    out.line(renderIpvsServiceLine(service, listing));
    for (const realServer of service.realServers) out.line(renderRealServerLine(realServer, listing));
  }
  return out.text();
}

function titleLines(listing: IpvsListing): string {
  if (listing === 'rules') {
    return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn';
  }
  const columns = IPVS_COUNTER_COLUMNS[listing].map((column) => padLeft(column, 8)).join(' ');
  return `${padRight('Prot LocalAddress:Port', 33)} ${columns}\n  -> RemoteAddress:Port`;
}

/** One service line, without the newline. */
export function renderIpvsServiceLine(service: IpvsService, listing: IpvsListing = 'rules'): string {
  const name = serviceName(service);
  if (listing !== 'rules') return padRight(name, 33) + renderCounters(service.counters, listing, false);
  let line = `${name} ${service.scheduler ?? '-'}`;
  const schedulerFlags = service.flags.filter((flag) => flag !== 'ops' && !flag.startsWith('pe:'));
  if (schedulerFlags.length > 0) line += ` (${schedulerFlags.join(',')})`;
  if (service.persistent !== null) {
    line += ` persistent ${service.persistent}`;
    if (service.netmask !== null && !isFullMask(service.netmask)) line += ` mask ${service.netmask}`;
    const engine = service.flags.find((flag) => flag.startsWith('pe:'));
    if (engine) line += ` pe ${engine.slice(3)}`;
  }
  if (service.flags.includes('ops')) line += ' ops';
  return line;
}

/** ipvsadm prints a persistence mask only when it is narrower than a host mask. */
function isFullMask(netmask: string): boolean {
  return netmask === '255.255.255.255' || netmask === '128';
}

function serviceName(service: IpvsService): string {
  // ipvsadm 1.31 prints the mark with "%d": marks from 2^31 up come out negative.
  if (service.protocol === 'FWM') return `FWM  ${service.fwmark === null ? '-' : service.fwmark | 0}${service.fwmarkIPv6 ? ' IPv6' : ''}`;
  const address = service.address ?? '-';
  const name = `${padRight(service.protocol, 4)} ${hostPort(address, service.port)}`;
  return address.includes(':') ? name : name.slice(0, 33);
}

/** ipvsadm's own "addr:port", with brackets around an IPv6 address. */
export function hostPort(address: string, port: number | null): string {
  return address.includes(':') ? `[${address}]:${port ?? '-'}` : `${address}:${port ?? '-'}`;
}

/** One real-server line ("  -> ..."), without the newline; rules-listing lines keep their trailing spaces. */
export function renderRealServerLine(realServer: IpvsRealServer, listing: IpvsListing = 'rules'): string {
  const destination = hostPort(realServer.address, realServer.port);
  const name = `  -> ${padRight(realServer.address.includes(':') ? destination : destination.slice(0, 28), 28)}`;
  if (listing !== 'rules') return name + renderCounters(realServer.counters, listing, true);
  return (
    `${name} ${padRight(realServer.forward ?? '-', 7)} ${padRight(orDash(realServer.weight), 6)} ` +
    `${padRight(orDash(realServer.activeConn), 10)} ${padRight(orDash(realServer.inactConn), 10)}`
  );
}

function orDash(value: number | null): string {
  return value === null ? '-' : String(value);
}

/**
 * The five counters. ipvsadm scales each one of 10^8 or more (print_largenum), except that a real
 * server's CPS, InPPS and OutPPS in `--rate` are printed exact (" %8llu").
 */
function renderCounters(counters: IpvsCounters | undefined, listing: 'stats' | 'rate', isRealServer: boolean): string {
  let out = '';
  IPVS_COUNTER_COLUMNS[listing].forEach((column, index) => {
    const value = counters?.[column];
    if (value === undefined) out += padLeft('-', 9);
    else if (listing === 'rate' && isRealServer && index < 3) out += ` ${padLeft(String(value), 8)}`;
    else out += largeNumber(value);
  });
  return out;
}

function largeNumber(value: number): string {
  if (value < 1e8) return padLeft(String(value), 9);
  if (value < 1e9) return `${padLeft(String(Math.floor(value / 1e3)), 8)}K`;
  if (value < 1e11) return `${padLeft(String(Math.floor(value / 1e6)), 8)}M`;
  if (value < 1e14) return `${padLeft(String(Math.floor(value / 1e9)), 8)}G`;
  return `${padLeft(String(Math.floor(value / 1e12)), 8)}T`;
}
