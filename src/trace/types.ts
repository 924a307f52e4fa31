// One packet's path as data: what `netlab trace` prints, `--json` emits and the web page draws.
// Every hop says what the model expects, what the node showed (when observed), a verdict and plain words.
// Hop kinds are layers of the path, not of one implementation: a Flannel route or an nftables Service
// rendering becomes another `mechanism` of the same hop kind.
import type { Layer } from '../compare/types.ts';
import type { DnsAnswer } from '../model/types.ts';
import type { Protocol } from '../snapshot/types.ts';

/**
 * - ok: observed, and it agrees with the model;
 * - broken: the packet does not get through here (the observation contradicts the model, or the model
 *   itself says the packet is dropped); `reason` says why;
 * - expected: the model's answer, with nothing observed to compare it with;
 * - unknown: netlab cannot tell (the answer does not depend on the cluster, or the input is missing).
 */
export type Verdict = 'ok' | 'broken' | 'expected' | 'unknown';

/** The words every rendering shows beside the colour, so a verdict reads without colour. */
export const VERDICT_WORDS: Record<Verdict, string> = { ok: 'OK', broken: 'BROKEN', expected: 'NOT OBSERVED', unknown: 'UNKNOWN' };

/** A line of a node's table (a section of checkLab's report) that a hop rests on, found by its text. */
export interface TableLineRef {
  layer: Layer;
  node: string | null;
  /** the line as the report prints it (render/route.ts, render/ipvsadm.ts) */
  text: string;
}

interface HopBase {
  /** short stable id within the trace ("dns", "service", "route-source", ...) */
  id: string;
  /** a few words for the diagram, e.g. "route on node-1" */
  title: string;
  node: string | null;
  verdict: Verdict;
  /** what happens at this hop, in plain words */
  explanation: string;
  /** for broken, unknown and expected verdicts: why (what differs, or what is missing) */
  reason: string | null;
  lines: TableLineRef[];
}

/** Where the packet starts: a pod (its IP) or a node (host network). */
export interface SourceHop extends HopBase {
  kind: 'source';
  pod: { namespace: string; name: string } | null;
  address: string | null;
}

export interface DnsQueryStep {
  name: string;
  type: 'A';
  how: 'search' | 'as-is';
  /** the model's answer; null when CoreDNS forwards the query upstream and nothing in the cluster decides it */
  expected: DnsAnswer | null;
  /** the answer observed (dns.json, or a live query); null when none was observed */
  observed: DnsAnswer | null;
  verdict: Verdict;
  note: string;
}

/** Name resolution in the source pod: its resolv.conf, the search-list expansion, CoreDNS's answers. */
export interface DnsHop extends HopBase {
  kind: 'dns';
  resolvConf: { nameservers: string[]; search: string[]; ndots: number; from: 'observed' | 'model' };
  /** every query in the order the resolver sends it, up to the first that answers */
  queries: DnsQueryStep[];
  /** the address the lookup returns (the first A record), or null */
  answer: string | null;
}

export interface Backend {
  address: string;
  port: number;
  pod: { namespace: string; name: string } | null;
  node: string | null;
  /** true: the node lists it; false: the node does not; null: the node was not observed */
  observed: boolean | null;
  /** the one this trace follows */
  followed: boolean;
  /** its chance of being picked when the mechanism states one (iptables probabilities); null otherwise */
  probability: number | null;
}

/** The Service layer on the source node: the frontend the destination hits and the backends it may pick. */
export interface ServiceHop extends HopBase {
  kind: 'service';
  /** how kube-proxy implements it on this node: "ipvs" today; nftables and iptables slot in here */
  mechanism: string;
  service: { namespace: string; name: string; portName: string } | null;
  frontend: { protocol: Protocol; address: string; port: number };
  /** how a backend is picked, in plain words (the scheduler, or the probabilities) */
  balancing: string;
  scheduler: string | null;
  /** session affinity timeout in seconds, null without persistence */
  persistence: number | null;
  backends: Backend[];
}

export interface RouteChoice {
  /** "10.244.1.0/24" */
  destination: string;
  gateway: string;
  iface: string;
  /** the row as `route -n` prints it */
  text: string;
  /** what the row is for, in plain words */
  meaning: string;
}

/** What the chosen route does with the packet. 'this-node': the address is the node's own (the local
 *  routing table, consulted before the main one, delivers it to the host). */
export type RouteOutcome =
  | { kind: 'local'; iface: string; bridge: boolean; pod: { namespace: string; name: string } | null }
  /** outerDst: the far end's underlay address the outer header goes to, when the model knows it */
  | { kind: 'tunnel'; tunnel: string; iface: string; gateway: string; toNode: string | null; outerDst: string | null }
  | { kind: 'host'; iface: string; gateway: string; toNode: string | null }
  | { kind: 'this-node' }
  | { kind: 'blackhole' }
  | { kind: 'no-route' };

/** A routing decision on one node: longest-prefix match over the expected table and the observed one. */
export interface RouteHop extends HopBase {
  kind: 'route';
  node: string;
  role: 'source' | 'destination' | 'reply';
  /** the address looked up */
  address: string;
  /** the match in the model's table (the CNI's rows only); null when no row of the model matches */
  expected: RouteChoice | null;
  /** the match in the observed `route -n`; null when the table was observed and nothing matches; absent when not observed */
  observed?: RouteChoice | null;
  /** what happens next, by the observed match when there is one, else the expected */
  outcome: RouteOutcome;
}

/** The packet wrapped for the trip between nodes. */
export interface TunnelHop extends HopBase {
  kind: 'tunnel';
  /** "ipip" or "vxlan" (Calico's tunl0 and vxlan.calico, flannel's flannel.1) */
  tunnel: string;
  device: string;
  fromNode: string;
  toNode: string | null;
  /** the outer header: IP-in-IP is IP protocol 4; VXLAN is UDP to port 4789 with a VNI */
  outer: { src: string | null; dst: string; protocol: string };
}

/** The packet handed to the destination pod through its veth. */
export interface DeliverHop extends HopBase {
  kind: 'deliver';
  pod: { namespace: string; name: string } | null;
  address: string;
  port: number;
  iface: string | null;
}

/** The reply's translation back on the source node: the DNAT undone (and a masquerade, when there was one). */
export interface ReplyHop extends HopBase {
  kind: 'reply';
  /** the reply as the source pod receives it */
  from: string;
  to: string;
}

export type Hop = SourceHop | DnsHop | ServiceHop | RouteHop | TunnelHop | DeliverHop | ReplyHop;

export interface TraceRequest {
  /** "namespace/pod", a pod name (unique in the snapshot), or a node name */
  from: string;
  /** "NAME", "NAME:PORT" or "IP:PORT" */
  to: string;
  /** default: the protocol of the Service port that matches, else TCP */
  protocol?: Protocol;
  /** the backend to follow (its IP); default the first the Service layer lists */
  endpoint?: string;
}

export interface Trace {
  request: TraceRequest;
  /** broken when any hop is, else unknown when any is, else expected when any is, else ok */
  verdict: Verdict;
  /** one line: the path and where it breaks */
  summary: string;
  hops: Hop[];
}

/** A trace request that cannot be followed (unknown pod or node, bad address): one clear message. */
export class TraceError extends Error {
  override name = 'TraceError';
}
