// Calico facts the routes model needs: interface names, node addresses, pool encapsulation, the pod routes' metric.
// Sources: projectcalico/calico v3.32 (libcalico-go workload_endpoint_default.go VethNameForWorkload,
// resources/node.go, felix calc/l3_route_resolver.go nodeInOurSubnet, felix config_params.go and endpoint_mgr.go).
import { createHash } from 'node:crypto';
import { cidrContains, ipFamily, parseCidr } from '../net/ip.ts';
import type { CalicoVersionView, EncapMode, IPPoolView, NodeView } from '../snapshot/types.ts';

/** The host side of a pod's veth: "cali" + the first 11 hex digits of SHA-1("<namespace>.<pod>") (15 characters, IFNAMSIZ). */
export function calicoVethName(namespace: string, pod: string): string {
  return `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
}

/**
 * The address other nodes route this node's pods through (its BGP address):
 * - the projectcalico.org/IPv4Address annotation without its prefix length;
 * - else the first IPv4 InternalIP of the node's status;
 * - else null (no route can be built to this node).
 */
export function nodeRoutingAddress(node: NodeView): string | null {
  if (node.calico.ipv4Address) return parseCidr(node.calico.ipv4Address).address;
  return node.addresses.find((a) => a.type === 'InternalIP' && ipFamily(a.address) === 'IPv4')?.address ?? null;
}

/** Felix's "same subnet" test for CrossSubnet: `ip` lies in the subnet of `local`'s IPv4Address annotation (false without one). */
export function inNodeSubnet(local: NodeView, ip: string): boolean {
  return local.calico.ipv4Address !== undefined && cidrContains(local.calico.ipv4Address, ip);
}

/** The IPv4 pool that contains the whole `cidr` (a block or a pod IP), or null. */
export function poolContaining(pools: IPPoolView[], cidr: string): IPPoolView | null {
  const range = parseCidr(cidr);
  return (
    pools.find((pool) => {
      const poolRange = parseCidr(pool.cidr);
      return poolRange.family === 'IPv4' && poolRange.prefix <= range.prefix && cidrContains(poolRange, range.network);
    }) ?? null
  );
}

export type Tunnel = 'ipip' | 'vxlan' | 'none';

export interface Encapsulation {
  tunnel: Tunnel;
  mode: EncapMode;
}

/** A pool's encapsulation: VXLAN when vxlanMode is not Never, else IP-in-IP when ipipMode is not Never, else none (Calico forbids both at once). */
export function poolEncapsulation(pool: IPPoolView): Encapsulation {
  if (pool.vxlanMode !== 'Never') return { tunnel: 'vxlan', mode: pool.vxlanMode };
  if (pool.ipipMode !== 'Never') return { tunnel: 'ipip', mode: pool.ipipMode };
  return { tunnel: 'none', mode: 'Never' };
}

/** The metric felix gives pod routes, and the Calico version it follows. */
export interface WorkloadRouteMetric {
  metric: number;
  /** spec.calicoVersion when the metric follows it; null when the version is unknown or unreadable (0 is assumed) */
  calicoVersion: string | null;
  /** what was assumed and why, in plain words, for the model's notes; null when the version was read */
  note: string | null;
}

/**
 * Since v3.32 felix routes pods with its IPv4NormalRoutePriority, default 1024 (felix/config/config_params.go
 * `config:"int(1:2147483646);1024"`, passed to dataplane/linux/endpoint_mgr.go as each route's RouteKey.Priority,
 * commit 6e160cc396 "FelixConfiguration and Felix support for live migration"); v3.31.7's endpoint_mgr.go sets no
 * priority, so the kernel shows 0. The real v3.32.1 capture (test/fixtures/calico-v3.32.1) shows `UH 1024`.
 * A FelixConfiguration may set another priority: netlab does not read it, and the routes layer does not compare metrics.
 */
export function workloadRouteMetric(version: CalicoVersionView | null): WorkloadRouteMetric {
  const release = version?.release;
  if (version && release) {
    const metric = release.major > 3 || (release.major === 3 && release.minor >= 32) ? 1024 : 0;
    return { metric, calicoVersion: version.text, note: null };
  }
  const unknown = version
    ? `${version.where}: spec.calicoVersion ${JSON.stringify(version.text)} is not a version such as v3.32.1`
    : 'which Calico runs is not known (no ClusterInformation default with spec.calicoVersion)';
  return { metric: 0, calicoVersion: null, note: `${unknown}, so pod routes are expected with metric 0, as Calico before v3.32 programs them (v3.32 and later: 1024); the metric is not compared` };
}
