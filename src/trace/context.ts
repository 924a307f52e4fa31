// What a trace reads: the snapshot, each node's expected tables (built once per node) and the observed ones.
import type { NodeObservation, Observation } from '../observation/types.ts';
import { compareRoutes, type RoutesComparison } from '../compare/routes/index.ts';
import { expectedIpvs } from '../model/ipvs.ts';
import { detectCni, expectedRoutes } from '../model/routes/index.ts';
import type { NodeIpvs, NodeRoutes } from '../model/types.ts';
import { parseIpAddr } from '../parse/ip-addr.ts';
import { parseIpvsadm } from '../parse/ipvsadm.ts';
import { parseRouteN } from '../parse/route.ts';
import type { InterfaceAddressTable, IpvsTable } from '../parse/types.ts';
import type { ClusterSnapshot, PodView } from '../snapshot/types.ts';

/** An observed table: parsed, or why there is none ("no route -n output was observed", a parse error). */
export type Observed<T> = { table: T } | { missing: string };

export interface TraceContext {
  snapshot: ClusterSnapshot;
  observation: Observation | null;
  routes(node: string): { expected: NodeRoutes; observed: Observed<RoutesComparison> };
  ipvs(node: string): { expected: NodeIpvs; observed: Observed<IpvsTable> };
  /** the running pod that has `ip`, if any */
  podWithIP(ip: string): PodView | null;
}

function observedText(obs: NodeObservation | undefined, what: 'routeN' | 'ipvsadmLn', command: string): { text: string } | { missing: string } {
  const raw = obs?.[what];
  if (raw === undefined) return { missing: `no ${command} output of this node was observed` };
  if (raw instanceof Error) return { missing: `${command} failed: ${raw.message}` };
  return { text: raw };
}

function parsed<T>(got: { text: string } | { missing: string }, parse: (text: string) => T): Observed<T> {
  if ('missing' in got) return got;
  try {
    return { table: parse(got.text) };
  } catch (error) {
    return { missing: (error as Error).message };
  }
}

export function traceContext(snapshot: ClusterSnapshot, observation: Observation | null): TraceContext {
  const byNode = new Map((observation?.nodes ?? []).map((o) => [o.node, o] as const));
  const routes = new Map<string, ReturnType<TraceContext['routes']>>();
  const ipvs = new Map<string, ReturnType<TraceContext['ipvs']>>();
  const cni = detectCni(snapshot).cni;
  // The node's observed `ip -o addr`, as checkLab reads it: it names the uplink and the NodePort addresses.
  const interfacesOf = (node: string): InterfaceAddressTable | null => {
    const raw = byNode.get(node)?.ipAddr;
    if (typeof raw !== 'string') return null;
    const table = parsed({ text: raw }, (text) => parseIpAddr(text, `${node}:ip -o addr`));
    return 'table' in table ? table.table : null;
  };
  const podsByIP = new Map<string, PodView>();
  for (const pod of snapshot.pods) {
    if (pod.hostNetwork || pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
    for (const ip of pod.podIPs) if (!podsByIP.has(ip)) podsByIP.set(ip, pod);
  }
  return {
    snapshot,
    observation,
    routes(node) {
      let tables = routes.get(node);
      if (!tables) {
        const table = parsed(observedText(byNode.get(node), 'routeN', 'route -n'), (text) => parseRouteN(text, `${node}:route -n`));
        // as checkLab does: the observed connected routes name the uplink of direct rows
        const expected = expectedRoutes(snapshot, node, { cni, observedRoutes: 'table' in table ? table.table.routes : undefined, interfaces: interfacesOf(node) });
        const observed: Observed<RoutesComparison> = 'table' in table ? { table: compareRoutes(expected, table.table) } : table;
        routes.set(node, (tables = { expected, observed }));
      }
      return tables;
    },
    ipvs(node) {
      let tables = ipvs.get(node);
      if (!tables) {
        const source = `${node}:ipvsadm -Ln`;
        const observed = parsed(observedText(byNode.get(node), 'ipvsadmLn', 'ipvsadm -Ln'), (text) => parseIpvsadm(text, source));
        ipvs.set(node, (tables = { expected: expectedIpvs(snapshot, node, { interfaces: interfacesOf(node) }), observed }));
      }
      return tables;
    },
    podWithIP: (ip) => podsByIP.get(ip) ?? null,
  };
}

/** "no route -n output ..." → "No route -n output ...": a reason that starts a sentence. */
export function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
