// Routes layer: one node's expected rows (of whichever CNI the model found) against its observed `route -n`.
// The comparison is the same for every CNI; the words of the findings are each CNI's (calico.ts, flannel.ts).
import { cidrContains } from '../../net/ip.ts';
import type { RouteEntry, RouteTable } from '../../parse/types.ts';
import { renderRouteLine } from '../../render/route.ts';
import type { CniName, ExpectedRoute, NodeRoutes, RouteWhy } from '../../model/types.ts';
import { routeKey } from '../keys.ts';
import type { Finding } from '../types.ts';
import { calicoFindingTexts } from './calico.ts';
import { flannelFindingTexts } from './flannel.ts';
import type { RouteFindingTexts } from './types.ts';

/** How each observed row was classified. "unmanaged" rows lie outside every range the CNI owns. */
export type ObservedRouteStatus = 'ok' | 'mismatch' | 'unexpected' | 'unmanaged';

export interface ObservedRoute {
  entry: RouteEntry;
  status: ObservedRouteStatus;
  expected: ExpectedRoute | null;
}

export interface RoutesComparison {
  findings: Finding[];
  observed: ObservedRoute[];
  /** expected rows with no observed counterpart */
  missing: ExpectedRoute[];
  /** optional rows (ExpectedRoute.optional) that are absent: not findings */
  absentOptional: ExpectedRoute[];
}

// Ref and Use are counters; the metric is the CNI's choice (Calico 3.32 moved pod routes to 1024), so neither is compared.
const COMPARED_FIELDS = ['gateway', 'flags', 'iface'] as const;

const TEXTS: Record<CniName, RouteFindingTexts<RouteWhy>> = {
  calico: calicoFindingTexts as RouteFindingTexts<RouteWhy>,
  flannel: flannelFindingTexts as RouteFindingTexts<RouteWhy>,
  canal: flannelFindingTexts as RouteFindingTexts<RouteWhy>,
};

export function compareRoutes(expected: NodeRoutes, observed: RouteTable): RoutesComparison {
  const node = expected.node;
  const texts = TEXTS[expected.cni];
  const wanted = new Map<string, ExpectedRoute>();
  for (const route of expected.routes) wanted.set(routeKey(route), route);
  const matched = new Set<string>();
  const findings: Finding[] = [];
  const rows: ObservedRoute[] = [];

  for (const entry of observed.routes) {
    const key = routeKey(entry);
    const want = wanted.get(key);
    if (want && !matched.has(key)) {
      matched.add(key);
      const fields = COMPARED_FIELDS.filter((f) => want[f] !== entry[f] && !(f === 'iface' && want.ifaceUnknown));
      rows.push({ entry, status: fields.length ? 'mismatch' : 'ok', expected: want });
      if (fields.length) findings.push(routeMismatch(texts, node, key, want, entry, fields));
    } else if (expected.ownedCIDRs.some((cidr) => cidrContains(cidr, entry.destination))) {
      rows.push({ entry, status: 'unexpected', expected: null });
      const words = texts.unexpected(node, key, entry, expected.ownedCIDRs);
      findings.push({ layer: 'routes', kind: 'unexpected', node, key, fields: [], expected: null, observed: renderRouteLine(entry), ...words });
    } else {
      rows.push({ entry, status: 'unmanaged', expected: null });
    }
  }
  const unmatched = expected.routes.filter((r) => !matched.has(routeKey(r)));
  const missing = unmatched.filter((r) => !r.optional);
  for (const route of missing) {
    const key = routeKey(route);
    findings.push({ layer: 'routes', kind: 'missing', node, key, fields: [], expected: renderRouteLine(route), observed: null, ...texts.missing(node, route, key) });
  }
  return { findings, observed: rows, missing, absentOptional: unmatched.filter((r) => r.optional) };
}

function routeMismatch(texts: RouteFindingTexts<RouteWhy>, node: string, key: string, want: ExpectedRoute, got: RouteEntry, fields: string[]): Finding {
  const diffs = fields.map((f) => `${f} is ${JSON.stringify(got[f as keyof RouteEntry])}, expected ${JSON.stringify(want[f as keyof RouteEntry])}`);
  return {
    layer: 'routes', kind: 'mismatch', node, key, fields,
    expected: renderRouteLine(want), observed: renderRouteLine(got),
    message: `Route ${key} on ${node}: ${diffs.join('; ')}.`,
    ...texts.mismatch(node, want, got, fields),
  };
}
