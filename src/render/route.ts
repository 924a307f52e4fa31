// Renders routes in net-tools 2.10 `route -n` layout (lib/inet_gr.c, lib/inet6_gr.c), byte for byte:
//   IPv4 "%-15s %-15s %-15s %-5s %-6d %-2d %7d %s" (reject routes print "-" for Gateway, Ref and Iface)
//   IPv6 "%-30s %-26s %-4s %-3d %-1d %6d %s" with "address/prefix" as the destination.
// A value the tool did not print (null) renders as "-".
import type { RouteEntry, RouteTable } from '../parse/types.ts';
import { LineWriter } from './lines.ts';
import { padLeft, padRight } from './pad.ts';

export const ROUTE_N_HEADER = ['Kernel IP routing table', 'Destination     Gateway         Genmask         Flags Metric Ref    Use Iface'];
export const ROUTE_N_INET6_HEADER = ['Kernel IPv6 routing table', 'Destination                    Next Hop                   Flag Met Ref  Use If'];

export function renderRouteN(table: RouteTable): string {
  const header = table.ipv6 ? ROUTE_N_INET6_HEADER : ROUTE_N_HEADER;
  const out = new LineWriter();
  for (const line of header) out.line(line);
  for (const route of table.routes) out.line(renderRouteLine(route));
  return out.text();
}

/** One row, without the newline. IPv6 rows (destination with ":") use the `-A inet6` layout. */
export function renderRouteLine(route: RouteEntry): string {
  const ref = route.ref === null ? '-' : String(route.ref);
  if (route.destination.includes(':')) {
    const target = `${route.destination}/${route.genmask}`;
    return (
      `${padRight(target, 30)} ${padRight(route.gateway, 26)} ${padRight(route.flags, 4)} ` +
      `${padRight(String(route.metric), 3)} ${ref} ${padLeft(String(route.use), 6)} ${route.iface}`
    );
  }
  return (
    `${padRight(route.destination, 15)} ${padRight(route.gateway, 15)} ${padRight(route.genmask, 15)} ` +
    `${padRight(route.flags, 5)} ${padRight(String(route.metric), 6)} ${padRight(ref, 2)} ${padLeft(String(route.use), 7)} ${route.iface}`
  );
}
