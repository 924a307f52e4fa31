// The Service hop on the source node: the frontend (ClusterIP, NodePort, external address) a destination
// hits, how kube-proxy picks a backend, and the set it picks from — expected, and observed when the node's
// table was captured. kube-proxy's IPVS mode today; each other mode adds a frontend lookup of its own.
import { compareIpvs } from '../compare/ipvs.ts';
import { realServerKey, virtualServerKey } from '../compare/keys.ts';
import { describeScheduler } from '../explain/schedulers.ts';
import type { ExpectedVirtualServer } from '../model/types.ts';
import type { IpvsService } from '../parse/types.ts';
import { renderIpvsServiceLine, renderRealServerLine } from '../render/ipvsadm.ts';
import type { Protocol } from '../snapshot/types.ts';
import { capitalized, type TraceContext } from './context.ts';
import { ruleServiceHop } from './service-rules.ts';
import { type Backend, type ServiceHop, type TableLineRef, TraceError, type Verdict } from './types.ts';

export interface Frontend {
  protocol: Protocol;
  address: string;
  port: number;
}

/** Whether any Service claims `address` (ClusterIP, external IP, load-balancer IP) on this node's IPVS table. */
export function frontendsAt(context: TraceContext, node: string, address: string): ExpectedVirtualServer[] {
  return context.ipvs(node).expected.services.filter((vs) => vs.address === address);
}

/**
 * The Service hop for `frontend` on `node`, following `endpoint` (an IP) or, by default, the first backend
 * both the model and the node list. Verdicts: the node's table differs from the model for this virtual
 * server (missing, other scheduler, a backend missing or extra), or it has no backend → broken; not
 * observed → expected; else ok.
 */
export function serviceHop(context: TraceContext, node: string, frontend: Frontend, endpoint: string | undefined): ServiceHop {
  const mode = context.snapshot.kubeProxy.mode || 'iptables';
  if (mode === 'nftables' || mode === 'iptables') {
    const ruled = ruleServiceHop(context, node, frontend, endpoint, mode);
    if (ruled) return ruled;
  }
  const key = virtualServerKey({ ...frontend, fwmark: null });
  const tables = context.ipvs(node);
  const want = tables.expected.services.find((vs) => virtualServerKey(vs) === key) ?? null;
  const lines: TableLineRef[] = [];
  const line = (text: string) => lines.push({ layer: 'ipvs', node, text });
  let got: IpvsService | null = null;
  let findings: string[] = [];
  let observedNode = false;
  if ('table' in tables.observed) {
    observedNode = true;
    const cmp = compareIpvs(tables.expected, tables.observed.table);
    got = tables.observed.table.services.find((s) => virtualServerKey(s) === key) ?? null;
    findings = cmp.findings.filter((f) => f.key === key || f.key.startsWith(`${key} -> `)).map((f) => f.message);
  }
  const listed = got ?? want;
  if (listed) {
    line(renderIpvsServiceLine(listed));
    for (const rs of listed.realServers) line(renderRealServerLine(rs));
    if (got && want) for (const rs of want.realServers) if (!got.realServers.some((o) => realServerKey(o) === realServerKey(rs))) line(renderRealServerLine(rs));
  }

  const backends: Backend[] = [];
  const add = (address: string, port: number, weight: number | null) => {
    if (backends.some((b) => b.address === address && b.port === port)) return;
    const index = want?.realServers.findIndex((rs) => rs.address === address && rs.port === port) ?? -1;
    const why = index >= 0 ? want!.why.realServers[index] : undefined;
    const pod = why?.pod ? { namespace: why.namespace, name: why.pod } : (context.podWithIP(address) ? { namespace: context.podWithIP(address)!.namespace, name: context.podWithIP(address)!.name } : null);
    const observed = observedNode ? Boolean(got?.realServers.some((rs) => rs.address === address && rs.port === port && rs.weight !== 0)) : null;
    backends.push({ address, port, pod, node: why?.node ?? context.podWithIP(address)?.nodeName ?? null, observed, followed: false, probability: weight === 0 ? 0 : null });
  };
  for (const rs of want?.realServers ?? []) add(rs.address, rs.port, rs.weight);
  for (const rs of got?.realServers ?? []) add(rs.address, rs.port, rs.weight);
  const candidates = backends.filter((b) => b.observed !== false);
  const followed = endpoint !== undefined ? backends.find((b) => b.address === endpoint) : (candidates[0] ?? backends[0]);
  if (endpoint !== undefined && !followed) {
    throw new TraceError(`--endpoint ${endpoint} is not a backend of ${key} on ${node} (backends: ${backends.map((b) => b.address).join(', ') || 'none'})`);
  }
  if (followed) followed.followed = true;

  const scheduler = listed?.scheduler ?? null;
  const persistence = listed?.persistent ?? null;
  const balancing = `${describeScheduler(scheduler)}${persistence !== null ? `; persistent for ${persistence} s: a client keeps its backend while it keeps talking` : ''}`;
  const service = want ? { namespace: want.why.namespace, name: want.why.service, portName: want.why.portName } : null;
  let verdict: Verdict;
  let reason: string | null = null;
  if (mode !== 'ipvs') {
    verdict = 'unknown';
    reason = mode === 'nftables' || mode === 'iptables'
      ? `No Service port in kube-proxy's ${mode} rules on ${node} serves ${key}.`
      : `kube-proxy runs in ${mode} mode on this cluster, which netlab does not model.`;
  } else if (!want && !got) {
    verdict = 'broken';
    reason = `No virtual server ${key} on ${node}: no Service has this address and port, so nothing translates the destination.`;
  } else if (findings.length) {
    verdict = 'broken';
    reason = findings.join(' ');
  } else if (!candidates.length) {
    verdict = 'broken';
    reason = `${key} has no backend on ${node}: IPVS has no real server to send the connection to, so it fails.`;
  } else if (!observedNode) {
    verdict = 'expected';
    reason = `${'missing' in tables.observed ? capitalized(tables.observed.missing) : ''}.`;
  } else {
    verdict = 'ok';
  }
  const named = service ? `Service ${service.namespace}/${service.name}${service.portName ? ` port "${service.portName}"` : ''} (${want!.why.kind})` : 'no Service';
  const explanation = `${key} is ${named}. kube-proxy's IPVS virtual server on ${node} picks one of ${backends.length} backend(s) by ${balancing}, `
    + `then rewrites the destination to it (DNAT, forwarding "Masq").${followed ? ` The trace follows ${realServerKey(followed)}${followed.pod ? ` (pod ${followed.pod.namespace}/${followed.pod.name})` : ''}.` : ''}`;
  return {
    kind: 'service', id: 'service', title: `${key} on ${node}`, node, verdict, explanation, reason, lines,
    mechanism: mode, service, frontend, balancing, scheduler, persistence, backends,
  };
}
