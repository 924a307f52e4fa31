// Parsed tool output. These shapes are netlab's public JSON (`netlab parse ... --json`):
// keep the field names. Numbers are numbers; a value the tool did not print is null.

/** One row of `route -n`. */
export interface RouteEntry {
  destination: string;
  gateway: string;
  genmask: string; // IPv6 rows (`route -n -A inet6`): the prefix length as text, e.g. "64"
  flags: string;
  metric: number;
  ref: number | null; // reject routes print "-"
  use: number;
  iface: string; // "*" for blackhole routes, "-" for reject routes
}

export interface RouteTable {
  routes: RouteEntry[];
  /** true for a `route -n -A inet6` listing; absent for IPv4 (the renderer needs it for an empty table) */
  ipv6?: boolean;
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
  /** true for an IPv6 firewall-mark service (printed "FWM  100 IPv6"); absent otherwise, as the address tells the family */
  fwmarkIPv6?: boolean;
  scheduler: string | null; // null in --stats/--rate listings
  persistent: number | null; // timeout in seconds
  netmask: string | null; // "mask M" of persistent services (IPv6: a prefix length such as "64")
  flags: string[]; // scheduler flags (e.g. "mh-port"), then "pe:<name>" for a persistence engine, then "ops"
  realServers: IpvsRealServer[];
  counters?: IpvsCounters;
}

export interface IpvsTable {
  services: IpvsService[];
}

/** `ipvsadm -L --timeout`: connection timeouts in seconds. */
export interface IpvsTimeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
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

/** One address line of `ip -o addr`: an address and the interface that holds it. */
export interface InterfaceAddress {
  /** the interface's index, e.g. 7 */
  index: number;
  /** the interface's name, e.g. "ens5", "docker0", "vxlan.calico" */
  iface: string;
  family: 'IPv4' | 'IPv6';
  /** the local address, as `ip` prints it (IPv6 in its compressed form) */
  address: string;
  prefixLength: number;
  /** the other end of a point-to-point address ("peer"), null otherwise */
  peer: string | null;
  /** "brd" (IPv4), null when not printed */
  broadcast: string | null;
  /** global, link, host, site, or a number */
  scope: string;
  /** address flags as printed: secondary, dynamic, tentative, nodad, noprefixroute, ... */
  flags: string[];
  /** "metric" of the prefix route, null when not printed */
  metric: number | null;
  /** the IPv4 label, e.g. "ens5" or "ens5:vip"; null for IPv6 (the kernel keeps labels for IPv4 only) */
  label: string | null;
}

/** The addresses observed on a node (`ip -o addr`), each with the interface that holds it, in `ip`'s order. */
export interface InterfaceAddressTable {
  addresses: InterfaceAddress[];
}

/** One element of an nft set or map: `key`, or `key : value`, with its comment if any. */
export interface NftElement {
  key: string;
  value: string | null; // null in a set
  comment: string | null;
}

/** A set or map of `nft list table`. */
export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  type: string; // "ipv4_addr . inet_proto . inet_service : verdict"
  flags: string[];
  timeout: string | null; // as printed, e.g. "3h"
  comment: string | null;
  elements: NftElement[];
}

export interface NftChain {
  name: string;
  /** a base chain's "type nat hook prerouting priority dstnat; policy accept;" line; null for a regular chain */
  hook: string | null;
  comment: string | null;
  /** the rules as nft prints them, in order (handles and counters are not part of the text) */
  rules: string[];
}

/** `nft list table FAMILY NAME` (or one table of `nft list ruleset`). */
export interface NftTable {
  family: string; // ip, ip6, inet
  name: string;
  comment: string | null;
  sets: NftSet[];
  chains: NftChain[];
}

export interface IptablesChain {
  name: string;
  /** ACCEPT/DROP for a built-in chain, "-" for a user chain */
  policy: string;
  /** each rule as iptables-save prints it after "-A CHAIN " (packet counters left out) */
  rules: string[];
}

export interface IptablesTable {
  name: string; // filter, nat, mangle, raw, security
  chains: IptablesChain[];
}

/** `iptables-save` (every table, or the one asked for with -t). */
export interface IptablesSave {
  tables: IptablesTable[];
}
