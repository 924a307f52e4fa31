// Stable keys both sides of a comparison are matched on, as a reader would name the line.
import { maskToPrefix } from '../net/ip.ts';
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
