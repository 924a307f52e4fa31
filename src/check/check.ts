// The whole check as one pure function: snapshot + observation -> report with findings and explanations.
// The CLI and the operator both call it; all I/O (reading files, exec, DNS sockets) happened before.
import { compareDns, answerText, queryText } from '../compare/dns.ts';
import { compareIpvs } from '../compare/ipvs.ts';
import { compareIptables, compareNftables, type RulesetComparison } from '../compare/rulesets.ts';
import { compareResolvConf } from '../compare/resolvconf.ts';
import { compareRoutes } from '../compare/routes/index.ts';
import type { Finding, Layer } from '../compare/types.ts';
import { annotateExpectedVirtualServer, annotateIpvs } from '../explain/ipvs.ts';
import { annotateIptables, annotateNftables } from '../explain/service-rules.ts';
import { annotateResolvConf } from '../explain/resolvconf.ts';
import { annotateExpectedRoute, annotateRoutes } from '../explain/routes/index.ts';
import type { AnnotatedLine } from '../explain/types.ts';
import { dnsExpectationFor, expectedDns, UnpredictableDnsQuery } from '../model/dns/index.ts';
import { expectedIpvs } from '../model/ipvs.ts';
import { expectedIptables } from '../model/services/iptables.ts';
import { expectedNftables } from '../model/services/nftables.ts';
import { hasServicePortsOf } from '../model/services/ports.ts';
import { expectedResolvConf } from '../model/resolvconf.ts';
import { detectCni, expectedRoutes } from '../model/routes/index.ts';
import type { CniName, DnsExpectation } from '../model/types.ts';
import type { IpFamily } from '../net/ip.ts';
import { parseIpAddr } from '../parse/ip-addr.ts';
import { parseIptablesSave } from '../parse/iptables-save.ts';
import { parseIpvsadm } from '../parse/ipvsadm.ts';
import { findNftTable, parseNftTables } from '../parse/nft.ts';
import type { InterfaceAddressTable, NftTable } from '../parse/types.ts';
import { parseResolvConf } from '../parse/resolvconf.ts';
import { parseRouteN } from '../parse/route.ts';
import type { ClusterSnapshot } from '../snapshot/types.ts';
import type { NodeObservation, Observation } from '../observation/types.ts';
import type { CheckName, CheckOptions, CheckReport, LayerResult, ReportSection, UserDnsQuery } from './types.ts';

export const ALL_LAYERS: Layer[] = ['routes', 'ipvs', 'nftables', 'iptables', 'dns', 'resolvconf'];
/** What a check names: a layer, or "services", the layer of whatever mode kube-proxy runs in. */
export const CHECK_NAMES: CheckName[] = ['routes', 'services', 'ipvs', 'nftables', 'iptables', 'dns', 'resolvconf'];
export const DEFAULT_CHECKS: CheckName[] = ['routes', 'services', 'dns', 'resolvconf'];

/**
 * The layers the checks name. "services" is the layer of kube-proxy's configured mode; when no node shows
 * that mode's output but they do show another mode's (a snapshot without kube-proxy's ConfigMap assumes
 * ipvs), it is the mode the nodes show.
 */
export function resolveChecks(checks: readonly CheckName[], snapshot: ClusterSnapshot, observation?: Observation): Layer[] {
  const shown = (layer: NodeLayer) => observation?.nodes.some((n) => NODE_LAYERS[layer].raw(n) !== undefined) ?? false;
  const configured = serviceLayerOf(snapshot.kubeProxy.mode);
  const services = shown(configured) ? configured : (SERVICE_LAYERS.find(shown) ?? configured);
  return [...new Set(checks.map((c) => (c === 'services' ? services : c)))];
}

function emptyResult(layer: Layer): LayerResult {
  return { layer, status: 'skipped', counts: { expected: 0, observed: 0, missing: 0, unexpected: 0, mismatched: 0 }, findings: [], unknown: [], unreadable: false, notes: [] };
}

function addFindings(result: LayerResult, findings: Finding[]): void {
  for (const f of findings) {
    result.findings.push(f);
    if (f.kind === 'missing') result.counts.missing++;
    else if (f.kind === 'unexpected') result.counts.unexpected++;
    else result.counts.mismatched++;
  }
}

/** fail beats unknown: a finding is certain even when another node could not be observed. */
function settle(result: LayerResult): LayerResult {
  result.status = result.findings.length ? 'fail' : result.unknown.length ? 'unknown' : 'pass';
  return result;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** kube-proxy's Service layer in each of its modes. */
export type ServiceLayer = 'ipvs' | 'nftables' | 'iptables';
export type NodeLayer = 'routes' | ServiceLayer;

/** The layers observed on each node (the others, DNS and resolv.conf, are cluster-wide). */
export const PER_NODE_LAYERS: readonly NodeLayer[] = ['routes', 'ipvs', 'nftables', 'iptables'];
export function isNodeLayer(layer: Layer): layer is NodeLayer {
  return (PER_NODE_LAYERS as readonly Layer[]).includes(layer);
}
export const SERVICE_LAYERS: readonly ServiceLayer[] = ['ipvs', 'nftables', 'iptables'];
/** The checks about kube-proxy's Services: its layer in any mode, or "services", the mode it runs in. */
export const SERVICE_CHECKS: readonly CheckName[] = ['services', ...SERVICE_LAYERS];

/** The node layer that checks kube-proxy's Services in the mode it runs in. */
export function serviceLayerOf(mode: string): ServiceLayer {
  return mode === 'nftables' ? 'nftables' : mode === 'ipvs' ? 'ipvs' : 'iptables';
}

/** The outcome of one node layer on one node: counts, findings, notes and the annotated table. */
interface NodeLayerOutcome {
  expected: number;
  observed: number;
  findings: Finding[];
  lines: AnnotatedLine[];
  notes?: string[];
  /** what could not be judged although the layer was observed */
  unknown?: string[];
}

interface NodeLayerInput {
  snapshot: ClusterSnapshot;
  node: string;
  cni: CniName;
  /** the observed text, or null when the layer was not observed on this node */
  text: string | null;
  source: string;
  /** the node's observed interface addresses, if any; a listing that cannot be read is noted in `notes` */
  interfaces: (notes: string[]) => InterfaceAddressTable | null;
  /** the layer's notes */
  notes: string[];
}

/** How each node layer is observed, modelled, compared and explained. */
const NODE_LAYERS: Record<NodeLayer, { tool: string; raw: (obs: NodeObservation) => string | Error | undefined; check: (input: NodeLayerInput) => NodeLayerOutcome }> = {
  routes: {
    tool: 'route -n',
    raw: (obs) => obs.routeN,
    check: ({ snapshot, node, cni, text, source, interfaces }) => {
      const table = text === null ? null : parseRouteN(text, source);
      // An unreadable ip -o addr is noted by the IPVS layer; here the uplink's own note says what is unknown.
      const expected = expectedRoutes(snapshot, node, { cni, observedRoutes: table?.routes, interfaces: interfaces([]) });
      if (!table) {
        return { expected: expected.routes.filter((r) => !r.optional).length, observed: 0, findings: [], notes: expected.notes, lines: expected.routes.map((r) => annotateExpectedRoute(r, 'expected')) };
      }
      const cmp = compareRoutes(expected, table);
      return {
        expected: expected.routes.length - cmp.absentOptional.length,
        observed: cmp.observed.filter((r) => r.status !== 'unmanaged').length,
        findings: cmp.findings, notes: expected.notes, lines: annotateRoutes(cmp, expected, snapshot),
      };
    },
  },
  ipvs: {
    tool: 'ipvsadm -Ln',
    raw: (obs) => obs.ipvsadmLn,
    check: ({ snapshot, node, text, source, interfaces, notes }) => {
      const expected = expectedIpvs(snapshot, node, { interfaces: interfaces(notes) });
      if (text === null) return { expected: expected.services.length, observed: 0, findings: [], lines: expected.services.flatMap((s) => annotateExpectedVirtualServer(s, 'expected')) };
      const cmp = compareIpvs(expected, parseIpvsadm(text, source));
      return { expected: expected.services.length, observed: cmp.observed.length, findings: cmp.findings, lines: annotateIpvs(cmp, expected, snapshot) };
    },
  },
  nftables: {
    tool: 'nft list table ip kube-proxy',
    raw: (obs) => obs.nftListTable,
    check: ({ snapshot, node, text, source, interfaces, notes }) => {
      // The listing may hold both of kube-proxy's tables (`nft list ruleset`, or the ip6 listing appended):
      // the ip table must be there; the ip6 one is checked when it is.
      const tables = text === null ? null : parseNftTables(text, source);
      const nodeInterfaces = interfaces(notes);
      const outcome = (family: IpFamily, nft: 'ip' | 'ip6', observed: NftTable) => rulesetOutcome(
        compareNftables(expectedNftables(snapshot, node, { family, interfaces: nodeInterfaces }), observed), (cmp) => annotateNftables(cmp, nft), tables === null);
      const nothing = (nft: string): NftTable => ({ family: nft, name: 'kube-proxy', comment: null, sets: [], chains: [] });
      const parts = [outcome('IPv4', 'ip', tables ? findNftTable(tables, source, 'ip', 'kube-proxy') : nothing('ip'))];
      const ipv6Services = hasServicePortsOf(snapshot, 'IPv6');
      const ip6 = tables ? tables.find((t) => t.family === 'ip6' && t.name === 'kube-proxy') : ipv6Services ? nothing('ip6') : undefined;
      if (ip6) parts.push(outcome('IPv6', 'ip6', ip6));
      else if (tables && ipv6Services) {
        const unknown = `node ${node}: its IPv6 Services were not checked: the nft listing has no table ip6 kube-proxy (capture \`nft list ruleset\`, or append the output of \`nft list table ip6 kube-proxy\`)`;
        parts.push({ expected: 0, observed: 0, findings: [], lines: [], unknown: [unknown] });
      }
      return mergeOutcomes(parts);
    },
  },
  iptables: {
    tool: 'iptables-save',
    raw: (obs) => obs.iptablesSave,
    check: ({ snapshot, node, text, source }) => {
      const expected = expectedIptables(snapshot, node);
      const observed = text === null ? { tables: [] } : parseIptablesSave(text, source);
      return rulesetOutcome(compareIptables(expected, observed), annotateIptables, text === null);
    },
  },
};

/** One node layer's outcome from several parts (kube-proxy's ip and ip6 tables). */
function mergeOutcomes(parts: NodeLayerOutcome[]): NodeLayerOutcome {
  return {
    expected: parts.reduce((n, p) => n + p.expected, 0),
    observed: parts.reduce((n, p) => n + p.observed, 0),
    findings: parts.flatMap((p) => p.findings),
    lines: parts.flatMap((p) => p.lines),
    unknown: parts.flatMap((p) => p.unknown ?? []),
  };
}

/** Counts chains, rules and map elements; with nothing observed, the expected listing is shown as such. */
function rulesetOutcome(cmp: RulesetComparison, annotate: (cmp: RulesetComparison) => AnnotatedLine[], expectedOnly: boolean): NodeLayerOutcome {
  const items = (status: (s: string) => boolean) =>
    cmp.chains.reduce((n, c) => n + (status(c.status) ? 1 : 0) + c.rules.filter((r) => status(r.status)).length, 0)
    + cmp.sets.reduce((n, s) => n + s.elements.filter((e) => status(e.status)).length, 0);
  const expected = items((s) => s !== 'unexpected' && s !== 'stale');
  const observed = items((s) => s !== 'missing');
  const lines = annotate(cmp);
  if (!expectedOnly) return { expected, observed, findings: cmp.findings, lines };
  return { expected, observed: 0, findings: [], lines: lines.map((l) => (l.status === 'missing' ? { ...l, status: 'expected' } : l)) };
}

/** Input that was there but could not be read: the layer is unknown, and the command line exits 2. */
function unreadable(result: LayerResult, reason: string): void {
  result.unknown.push(reason);
  result.unreadable = true;
}

/** Reads one node's raw output for a layer: the text, or why the layer cannot be judged on that node. */
function observedText(obs: NodeObservation | undefined, layer: NodeLayer): { text: string } | { reason: string; failed: boolean } {
  const what = NODE_LAYERS[layer].tool;
  const raw = obs ? NODE_LAYERS[layer].raw(obs) : undefined;
  if (raw === undefined) return { reason: `no ${what} output was observed`, failed: false };
  if (raw instanceof Error) return { reason: `${what} failed: ${raw.message}`, failed: true };
  return { text: raw };
}

/**
 * The node's interface addresses (`ip -o addr`) when they were observed and can be read; otherwise null, and
 * the model works without them. An unreadable listing is noted (naming node, file line and text), not fatal:
 * the layer can still be checked.
 */
export function observedInterfaces(obs: NodeObservation | undefined, node: string, notes: string[]): InterfaceAddressTable | null {
  const raw = obs?.ipAddr;
  if (raw === undefined) return null;
  if (raw instanceof Error) {
    notes.push(`node ${node}: the node's addresses could not be read (ip -o addr failed: ${raw.message}); NodePort addresses were inferred from the Node object.`);
    return null;
  }
  try {
    return parseIpAddr(raw, `${node}:ip -o addr`);
  } catch (e) {
    notes.push(`node ${node}: the node's addresses were not used: ${errorText(e)}`);
    return null;
  }
}

function checkNodeLayer(layer: NodeLayer, snapshot: ClusterSnapshot, cni: CniName, node: string, obs: NodeObservation | undefined, result: LayerResult, sections: ReportSection[]): void {
  const source = `${node}:${NODE_LAYERS[layer].tool}`;
  const got = observedText(obs, layer);
  let outcome: NodeLayerOutcome;
  try {
    const interfaces = (notes: string[]) => observedInterfaces(obs, node, notes);
    outcome = NODE_LAYERS[layer].check({ snapshot, node, cni, text: 'text' in got ? got.text : null, source, interfaces, notes: result.notes });
  } catch (e) {
    // One node's unreadable output makes that node unknown; the other nodes' results stand.
    unreadable(result, `node ${node}: ${errorText(e)}`);
    sections.push({ layer, node, observed: false, lines: [] });
    return;
  }
  for (const note of outcome.notes ?? []) if (!result.notes.includes(note)) result.notes.push(note);
  result.unknown.push(...(outcome.unknown ?? []));
  result.counts.expected += outcome.expected;
  result.counts.observed += outcome.observed;
  addFindings(result, outcome.findings);
  if ('reason' in got) {
    if (got.failed) unreadable(result, `node ${node}: ${got.reason}`);
    else result.unknown.push(`node ${node}: ${got.reason}`);
  }
  sections.push({ layer, node, observed: 'text' in got, lines: outcome.lines });
}

/** The lab's own queries: with `expect` the lab decides the answer, otherwise the model does. A query the
 *  model cannot predict (it goes upstream) without an `expect` is noted and left out. */
function userExpectations(snapshot: ClusterSnapshot, queries: UserDnsQuery[], notes: string[]): DnsExpectation[] {
  const out: DnsExpectation[] = [];
  for (const q of queries) {
    const query = { name: q.name.replace(/\.$/, '').toLowerCase(), type: q.type };
    if (q.expect) {
      out.push({
        query,
        expect: { rcode: q.expect.length ? 'NOERROR' : 'NXDOMAIN', answers: q.expect.map((data) => ({ name: query.name, type: q.type, data })) },
        why: 'asked for in the lab, with the answer the lab expects',
      });
      continue;
    }
    try {
      const e = dnsExpectationFor(snapshot, query);
      out.push({ ...e, why: `asked for in the lab: ${e.why}` });
    } catch (err) {
      if (!(err instanceof UnpredictableDnsQuery)) throw err;
      notes.push(`${query.name} ${query.type}: ${err.message}; give "expect" in the lab to check it`);
    }
  }
  return out;
}

function checkDns(snapshot: ClusterSnapshot, observation: Observation, options: CheckOptions, result: LayerResult, sections: ReportSection[]): void {
  const expectations = [
    ...expectedDns(snapshot, { namespaces: options.namespaces }),
    ...userExpectations(snapshot, options.dnsQueries ?? [], result.notes),
  ];
  result.counts.expected = expectations.length;
  const observed = observation.dns ?? [];
  if (!observation.dns) result.unknown.push('no DNS answers were observed: the expected answers are shown, not checked');
  const cmp = compareDns(expectations, observed);
  result.counts.observed = cmp.checked;
  addFindings(result, cmp.findings);
  for (const f of cmp.failures) unreadable(result, `DNS server ${f.server}: ${f.query}: ${f.error}`);
  const lines: AnnotatedLine[] = expectations.map((e) => {
    const key = queryText(e.query);
    const finding = cmp.findings.find((f) => f.key.startsWith(`${key} @`));
    const asked = observed.some((o) => queryText(o.query).toLowerCase() === key.toLowerCase());
    const status = finding ? 'mismatch' : asked ? 'ok' : 'expected';
    return { text: `${key} -> ${answerText(e.expect)}`, status, explanation: finding ? `${e.why}. ${finding.message}` : `${e.why}.` };
  });
  sections.push({ layer: 'dns', node: null, observed: observed.length > 0, lines });
}

function checkResolvConf(snapshot: ClusterSnapshot, observation: Observation, result: LayerResult, sections: ReportSection[]): void {
  const obs = observation.resolvConf;
  if (!obs) {
    result.unknown.push('no resolv.conf was observed');
    return;
  }
  // The node's own resolv.conf is not observed: the kubelet's additions from it are left open.
  const expected = expectedResolvConf(snapshot, { namespace: obs.namespace, dnsPolicy: obs.dnsPolicy, hostResolvConf: 'unknown' });
  result.counts.expected = 1;
  if (obs.text instanceof Error) {
    unreadable(result, `resolv.conf could not be read: ${obs.text.message}`);
    return;
  }
  try {
    const parsed = parseResolvConf(obs.text, `resolv.conf (namespace ${obs.namespace})`);
    result.counts.observed = 1;
    const findings = compareResolvConf(expected, parsed, `a pod in namespace ${obs.namespace} (dnsPolicy ${obs.dnsPolicy})`);
    addFindings(result, findings);
    sections.push({ layer: 'resolvconf', node: null, observed: true, lines: annotateResolvConf(parsed, expected, findings) });
  } catch (e) {
    unreadable(result, errorText(e));
  }
}

export function checkLab(snapshot: ClusterSnapshot, observation: Observation, options: CheckOptions): CheckReport {
  const layers = Object.fromEntries(ALL_LAYERS.map((l) => [l, emptyResult(l)])) as Record<Layer, LayerResult>;
  const sections: ReportSection[] = [];
  const nodes = options.nodes ?? snapshot.nodes.map((n) => n.name);
  const byNode = new Map(observation.nodes.map((o) => [o.node, o] as const));
  const checked = resolveChecks(options.layers, snapshot, observation);
  const cni = checked.includes('routes') ? detectCni(snapshot) : null;
  if (cni) {
    layers.routes.notes.push(`CNI: ${cni.evidence}`);
    if (cni.cni === 'calico' && snapshot.ipamBlocks.length === 0) layers.routes.notes.push('No Calico IPAM blocks in the snapshot: blocks were taken from the nodes\' podCIDRs.');
  }
  for (const layer of PER_NODE_LAYERS) {
    if (!checked.includes(layer)) continue;
    for (const node of nodes) checkNodeLayer(layer, snapshot, cni?.cni ?? 'calico', node, byNode.get(node), layers[layer], sections);
    settle(layers[layer]);
  }
  if (checked.includes('dns')) {
    checkDns(snapshot, observation, options, layers.dns, sections);
    settle(layers.dns);
  }
  if (checked.includes('resolvconf')) {
    checkResolvConf(snapshot, observation, layers.resolvconf, sections);
    settle(layers.resolvconf);
  }
  return { layers, sections, cni };
}
