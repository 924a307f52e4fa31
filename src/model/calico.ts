// Calico facts the routes model needs: interface names, node addresses, pool encapsulation.
// Sources: projectcalico/calico v3.32 (libcalico-go workload_endpoint_default.go VethNameForWorkload,
// resources/node.go, felix calc/l3_route_resolver.go nodeInOurSubnet).
import { createHash } from 'node:crypto';
import { cidrContains, ipFamily, parseCidr } from '../net/ip.ts';
import type { EncapMode, IPPoolView, NodeView } from '../snapshot/types.ts';

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
