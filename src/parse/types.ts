// Parsed tool output. These shapes are netlab's public JSON (`netlab parse ... --json`):
// keep the field names. Numbers are numbers; a value the tool did not print is null.

/** One row of `route -n`. */
export interface RouteEntry {
  destination: string;
  gateway: string;
  genmask: string;
  flags: string;
  metric: number;
  ref: number | null; // reject routes print "-"
  use: number;
  iface: string; // "*" for blackhole routes, "-" for reject routes
}

export interface RouteTable {
  routes: RouteEntry[];
}

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP' | 'FWM';

/** Packet/byte counters of `ipvsadm -Ln --stats` or `--rate` (column names as printed). */
export type IpvsCounters = Record<string, number>;

export interface IpvsRealServer {
  address: string; // without brackets for IPv6
  port: number;
  forward: string | null; // Masq, Route, Tunnel (null in --stats/--rate listings)
  weight: number | null;
  activeConn: number | null;
  inactConn: number | null;
  counters?: IpvsCounters;
}

export interface IpvsService {
  protocol: IpvsProtocol;
  address: string | null; // null for FWM services
  port: number | null; // null for FWM services
  fwmark: number | null;
  scheduler: string | null; // null in --stats/--rate listings
  persistent: number | null; // timeout in seconds
  netmask: string | null; // "mask M" of persistent services
  flags: string[]; // scheduler flags and "ops"
  realServers: IpvsRealServer[];
  counters?: IpvsCounters;
}

export interface IpvsTable {
  services: IpvsService[];
}

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  /** "ndots:5" becomes { ndots: "5" }; a flag option such as "rotate" becomes { rotate: null } */
  options: Record<string, string | null>;
}

/** Unparsable tool output: never skipped silently. */
export class ParseError extends Error {
  readonly format: string;
  readonly line: number; // 1-based
  readonly text: string;
  readonly source: string;
  constructor(format: string, line: number, text: string, reason: string, source = '<input>') {
    super(`${source}:${line}: cannot parse ${format} output: ${reason}\n  ${JSON.stringify(text)}`);
    this.name = 'ParseError';
    this.format = format;
    this.line = line;
    this.text = text;
    this.source = source;
  }
}
