// What every CNI's route model shares: the row builder, the uplink look-up, small indexes.
import { cidrContains, maskToPrefix, parseCidr, prefixToMask } from '../../net/ip.ts';
import type { InterfaceAddressTable, RouteEntry } from '../../parse/types.ts';
import type { ExpectedRoute, RouteWhy, UplinkSource, UplinkWhy } from '../types.ts';

export const ANY = '0.0.0.0';
/** Iface of an expected row whose interface the model could not name (never compared, see ExpectedRoute.ifaceUnknown). */
export const UNKNOWN_UPLINK = '<uplink>';

/** One `route -n` row: flags U, plus G with a gateway, plus H for a /32; Ref and Use are always 0. */
export function routeRow(cidr: string, gateway: string, iface: string, metric: number, why: RouteWhy): ExpectedRoute {
  const { network, prefix } = parseCidr(cidr);
  const flags = `U${gateway === ANY ? '' : 'G'}${prefix === 32 ? 'H' : ''}`;
  return { destination: network, gateway, genmask: prefixToMask(prefix), flags, metric, ref: 0, use: 0, iface, why };
}

export interface Uplink {
  iface: string;
  /** the node's own address the interface holds */
  address: string;
  from: UplinkSource;
}

/** What the node showed of itself, when it was observed: `ip -o addr` and the `route -n` rows. */
export interface UplinkEvidence {
  interfaces?: InterfaceAddressTable | null;
  routes?: RouteEntry[];
}

/**
 * The interface that holds the node's own `address` (Calico's "parent device", flannel's external interface):
 * un-encapsulated routes leave through it. Found, in this order, from
 * - the observed `ip -o addr`: the interface that holds the address;
 * - Calico's projectcalico.org/Interfaces annotation (calico-node's startup lists the host's interfaces);
 * - the observed `route -n`: the kernel's connected route (no gateway) of the node's subnet names the interface;
 * otherwise it is unknown and the routes through it are not compared on Iface.
 */
export function findUplink(address: string | null, annotated: { name: string; addresses: string[] }[] | undefined, observed: UplinkEvidence): Uplink {
  if (address === null) return { iface: UNKNOWN_UPLINK, address: 'unknown', from: 'unknown' };
  const held = observed.interfaces?.addresses.find((a) => a.address === address);
  if (held) return { iface: held.iface, address, from: 'ip-addr' };
  const fromAnnotation = annotated?.find((iface) => iface.addresses.includes(address));
  if (fromAnnotation) return { iface: fromAnnotation.name, address, from: 'calico-interfaces' };
  let best: { iface: string; prefix: number } | null = null;
  for (const route of observed.routes ?? []) {
    if (route.gateway !== ANY || route.flags !== 'U' || route.iface === '*') continue;
    const prefix = maskToPrefix(route.genmask);
    if (prefix > 0 && (!best || prefix > best.prefix) && cidrContains(`${route.destination}/${prefix}`, address)) best = { iface: route.iface, prefix };
  }
  return best ? { iface: best.iface, address, from: 'connected-route' } : { iface: UNKNOWN_UPLINK, address, from: 'unknown' };
}

/** The uplink as the row's `why` records it. */
export const uplinkWhy = (uplink: Uplink): UplinkWhy => ({ address: uplink.address, from: uplink.from });

/** A row through the uplink: when its name is unknown the row says so and Iface is left out of the comparison. */
export function uplinkRow(cidr: string, gateway: string, uplink: Uplink, why: RouteWhy): ExpectedRoute {
  const row = routeRow(cidr, gateway, uplink.iface, 0, why);
  return uplink.from === 'unknown' ? { ...row, ifaceUnknown: true } : row;
}

export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Each key's first item, as Array.find would return it. */
export function firstByKey<T>(items: T[], key: (item: T) => string): Map<string, T> {
  const first = new Map<string, T>();
  for (const item of items) if (!first.has(key(item))) first.set(key(item), item);
  return first;
}
