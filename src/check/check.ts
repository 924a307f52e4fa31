// The whole check as one pure function: snapshot + observation -> report with findings and explanations.
// The CLI and the operator both call it; all I/O (reading files, exec, DNS sockets) happened before.
import { compareDns, answerText, queryText } from '../compare/dns.ts';
import { compareIpvs } from '../compare/ipvs.ts';
import { compareResolvConf } from '../compare/resolvconf.ts';
import { compareRoutes } from '../compare/routes/index.ts';
import type { Finding, Layer } from '../compare/types.ts';
import { annotateExpectedVirtualServer, annotateIpvs } from '../explain/ipvs.ts';
import { annotateResolvConf } from '../explain/resolvconf.ts';
import { annotateExpectedRoute, annotateRoutes } from '../explain/routes/index.ts';
import type { AnnotatedLine } from '../explain/types.ts';
import { dnsExpectationFor, expectedDns, UnpredictableDnsQuery } from '../model/dns/index.ts';
import { expectedIpvs } from '../model/ipvs.ts';
import { expectedResolvConf } from '../model/resolvconf.ts';
import { detectCni, expectedRoutes } from '../model/routes/index.ts';
import type { CniName, DnsExpectation } from '../model/types.ts';
import { parseIpAddr } from '../parse/ip-addr.ts';
import { parseIpvsadm } from '../parse/ipvsadm.ts';
import type { InterfaceAddressTable } from '../parse/types.ts';
import { parseResolvConf } from '../parse/resolvconf.ts';
import { parseRouteN } from '../parse/route.ts';
import type { ClusterSnapshot } from '../snapshot/types.ts';
import type { NodeObservation, Observation } from '../observation/types.ts';
import type { CheckOptions, CheckReport, LayerResult, ReportSection, UserDnsQuery } from './types.ts';

export const ALL_LAYERS: Layer[] = ['routes', 'ipvs', 'dns', 'resolvconf'];

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

type NodeLayer = 'routes' | 'ipvs';

/** Input that was there but could not be read: the layer is unknown, and the command line exits 2. */
function unreadable(result: LayerResult, reason: string): void {
  result.unknown.push(reason);
  result.unreadable = true;
}

/** Reads one node's raw output for a layer: the text, or why the layer cannot be judged on that node. */
function observedText(obs: NodeObservation | undefined, layer: NodeLayer): { text: string } | { reason: string; failed: boolean } {
  const what = layer === 'routes' ? 'route -n' : 'ipvsadm -Ln';
  const raw = layer === 'routes' ? obs?.routeN : obs?.ipvsadmLn;
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
  const source = `${node}:${layer === 'routes' ? 'route -n' : 'ipvsadm -Ln'}`;
  let lines: AnnotatedLine[];
  let observed = false;
  const got = observedText(obs, layer);
  try {
    if (layer === 'routes') {
      const table = 'text' in got ? parseRouteN(got.text, source) : null;
      // An unreadable ip -o addr is noted by the IPVS layer; here the uplink's own note says what is unknown.
      const interfaces = observedInterfaces(obs, node, []);
      const expected = expectedRoutes(snapshot, node, { cni, observedRoutes: table?.routes, interfaces });
      for (const note of expected.notes) if (!result.notes.includes(note)) result.notes.push(note);
      if (table) {
        const cmp = compareRoutes(expected, table);
        result.counts.expected += expected.routes.length - cmp.absentOptional.length;
        result.counts.observed += cmp.observed.filter((r) => r.status !== 'unmanaged').length;
        addFindings(result, cmp.findings);
        lines = annotateRoutes(cmp, expected, snapshot);
        observed = true;
      } else {
        result.counts.expected += expected.routes.filter((r) => !r.optional).length;
        lines = expected.routes.map((r) => annotateExpectedRoute(r, 'expected'));
      }
    } else {
      const expected = expectedIpvs(snapshot, node, { interfaces: observedInterfaces(obs, node, result.notes) });
      result.counts.expected += expected.services.length;
      if ('text' in got) {
        const cmp = compareIpvs(expected, parseIpvsadm(got.text, source));
        result.counts.observed += cmp.observed.length;
        addFindings(result, cmp.findings);
        lines = annotateIpvs(cmp, expected, snapshot);
        observed = true;
      } else {
        lines = expected.services.flatMap((s) => annotateExpectedVirtualServer(s, 'expected'));
      }
    }
  } catch (e) {
    // One node's unreadable output makes that node unknown; the other nodes' results stand.
    unreadable(result, `node ${node}: ${errorText(e)}`);
    sections.push({ layer, node, observed: false, lines: [] });
    return;
  }
  if ('reason' in got) {
    if (got.failed) unreadable(result, `node ${node}: ${got.reason}`);
    else result.unknown.push(`node ${node}: ${got.reason}`);
  }
  sections.push({ layer, node, observed, lines });
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
  const expected = expectedResolvConf(snapshot, { namespace: obs.namespace, dnsPolicy: obs.dnsPolicy });
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
  const cni = options.layers.includes('routes') ? detectCni(snapshot) : null;
  if (cni) {
    layers.routes.notes.push(`CNI: ${cni.evidence}`);
    if (cni.cni === 'calico' && snapshot.ipamBlocks.length === 0) layers.routes.notes.push('No Calico IPAM blocks in the snapshot: blocks were taken from the nodes\' podCIDRs.');
  }
  for (const layer of ['routes', 'ipvs'] as const) {
    if (!options.layers.includes(layer)) continue;
    for (const node of nodes) checkNodeLayer(layer, snapshot, cni?.cni ?? 'calico', node, byNode.get(node), layers[layer], sections);
    settle(layers[layer]);
  }
  if (options.layers.includes('dns')) {
    checkDns(snapshot, observation, options, layers.dns, sections);
    settle(layers.dns);
  }
  if (options.layers.includes('resolvconf')) {
    checkResolvConf(snapshot, observation, layers.resolvconf, sections);
    settle(layers.resolvconf);
  }
  return { layers, sections, cni };
}
