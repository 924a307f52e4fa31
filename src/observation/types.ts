// What was observed on the nodes and asked of DNS, as data: the observers (src/observe, the operator)
// fill it in; the check and the comparisons read it. It sits between the model and the comparison in the
// flow, so both sides can name it without importing anything above them.
import type { DnsAnswer, DnsQuery } from '../model/types.ts';

/** What an observer brought back for one node. An Error means the probe failed (the layer becomes Unknown). */
export interface NodeObservation {
  node: string;
  routeN?: string | Error; // raw `route -n` text
  ipvsadmLn?: string | Error; // raw `ipvsadm -Ln` text
  /** raw `ip -o addr` text: the node's interface addresses (optional; without it NodePort addresses are inferred) */
  ipAddr?: string | Error;
  nftListTable?: string | Error; // raw `nft list table ip kube-proxy` text; may hold the ip6 kube-proxy table too
  iptablesSave?: string | Error; // raw `iptables-save` text (every table)
}

export interface ObservedDnsAnswer {
  query: DnsQuery;
  /** which server answered, e.g. "10.96.0.10:53/udp" */
  server: string;
  answer: DnsAnswer | Error;
}

export interface Observation {
  nodes: NodeObservation[];
  dns?: ObservedDnsAnswer[];
  /** raw resolv.conf text of a pod in `namespace` (the operator reads its own) */
  resolvConf?: { namespace: string; dnsPolicy: string; text: string | Error };
}
