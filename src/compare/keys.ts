// Stable keys both sides of a comparison are matched on, as a reader would name the line.
import { maskToPrefix } from '../parse/ip.ts';
import type { IpvsRealServer, IpvsService, RouteEntry } from '../parse/types.ts';
import { hostPort } from '../render/ipvsadm.ts';


/** "TCP 10.96.0.10:53", "TCP [fd00::a]:53" or "FWM 100": ipvsadm's own way of naming a virtual server. */
export function virtualServerKey(svc: Pick<IpvsService, 'protocol' | 'address' | 'port' | 'fwmark'>): string {
  if (svc.protocol === 'FWM') return `FWM ${svc.fwmark}`;
  return `${svc.protocol} ${hostPort(svc.address ?? '?', svc.port ?? 0)}`;
}

export function realServerKey(rs: Pick<IpvsRealServer, 'address' | 'port'>): string {
  return hostPort(rs.address, rs.port);
}

/** "10.244.1.0/24": a route is identified by its destination network. */
export function routeKey(route: Pick<RouteEntry, 'destination' | 'genmask'>): string {
  return `${route.destination}/${maskToPrefix(route.genmask)}`;
}

/** Lists up to this long are scanned: cheaper than indexing, and nearly every Service has fewer endpoints. */
const SCAN_LIMIT = 32;

/**
 * A list of real servers (or anything with an address and a port) that finds its items by realServerKey
 * without building key strings: a node can have 100,000 real servers. Two items have the same key exactly
 * when they have the same address and the same port, as a port is an integer. Like a Map built from the
 * list, a key stands for the last item that has it.
 */
export class RealServerIndex<T extends Pick<IpvsRealServer, 'address' | 'port'>> {
  /** the list itself, not a copy: push() appends to it */
  readonly items: T[];
  /** once the list is long: the last index of each address, and for each index the previous one with its address */
  private lastOfAddress: Map<string, number> | null = null;
  private previousOfAddress: number[] = [];

  constructor(items: T[] = []) {
    this.items = items;
    if (items.length > SCAN_LIMIT) this.buildIndex();
  }

  push(item: T): void {
    this.items.push(item);
    if (this.lastOfAddress) this.link(this.items.length - 1);
    else if (this.items.length > SCAN_LIMIT) this.buildIndex();
  }

  /** The index of the last item with this address and port; -1 when there is none. */
  lastIndexOf(address: string, port: number): number {
    let index = this.lastOfAddress ? (this.lastOfAddress.get(address) ?? -1) : this.items.length - 1;
    while (index >= 0) {
      const item = this.items[index]!;
      if (item.port === port && item.address === address) return index;
      index = this.lastOfAddress ? this.previousOfAddress[index]! : index - 1;
    }
    return -1;
  }

  private buildIndex(): void {
    this.lastOfAddress = new Map();
    for (let index = 0; index < this.items.length; index++) this.link(index);
  }

  private link(index: number): void {
    const address = this.items[index]!.address;
    this.previousOfAddress[index] = this.lastOfAddress!.get(address) ?? -1;
    this.lastOfAddress!.set(address, index);
  }
}
