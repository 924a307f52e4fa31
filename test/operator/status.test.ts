// The status builder: conditions per layer, Ready and Progressing, transitions, the findings cap, and
// when a write is needed. Reports are built here as plain data (the shape checkLab returns).
import { ALL_LAYERS } from '../../src/check/check.ts';
import type { CheckReport, LayerResult } from '../../src/check/types.ts';
import type { Finding, Layer } from '../../src/compare/types.ts';
import type { ClassifiedFinding } from '../../src/operator/convergence.ts';
import { buildStatus, capFindings, invalidSpecStatus, LIMITS, needsWrite, transitions, type NetworkLabStatus, type StatusInput } from '../../src/operator/status.ts';

const ALL: Layer[] = ['routes', 'ipvs', 'dns', 'resolvconf'];
const T0 = Date.parse('2026-11-25T12:00:00Z');

function layerResult(layer: Layer, patch: Partial<LayerResult> = {}): LayerResult {
  return { layer, status: 'pass', counts: { expected: 4, observed: 4, missing: 0, unexpected: 0, mismatched: 0 }, findings: [], unknown: [], unreadable: false, notes: [], ...patch };
}

function report(patch: Partial<Record<Layer, Partial<LayerResult>>> = {}): CheckReport {
  return { layers: Object.fromEntries(ALL_LAYERS.map((l) => [l, layerResult(l, patch[l])])) as Record<Layer, LayerResult>, sections: [], cni: null };
}

function finding(key: string, patch: Partial<Finding> = {}): Finding {
  return { layer: 'ipvs', kind: 'missing', node: 'node-1', key, fields: [], expected: `TCP  ${key} rr`, observed: null, message: `virtual server ${key} is missing`, cause: 'kube-proxy has not programmed it', next: 'look at kube-proxy logs', ...patch };
}

function classified(f: Finding, converging = false, firstSeen = T0): ClassifiedFinding {
  return { finding: f, firstSeen, converging, deadline: converging ? firstSeen + 30_000 : null };
}

function input(patch: Partial<StatusInput> = {}): StatusInput {
  return { generation: 2, checks: ALL, report: report(), classified: [], lastChange: null, graceMs: 30_000, latency: [], previous: undefined, now: T0, ...patch };
}

const condition = (status: NetworkLabStatus, type: string) => status.conditions.find((c) => c.type === type);

test('everything verified: each layer True, Ready True, Progressing False', () => {
  const status = buildStatus(input());
  expect(status.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
    ['RoutesVerified', 'True', 'Verified'],
    ['IPVSVerified', 'True', 'Verified'],
    ['DNSVerified', 'True', 'Verified'],
    ['ResolvConfVerified', 'True', 'Verified'],
    ['Ready', 'True', 'AllVerified'],
    ['Progressing', 'False', 'Settled'],
  ]);
  expect(status.conditions.every((c) => c.observedGeneration === 2 && c.lastTransitionTime === '2026-11-25T12:00:00.000Z')).toBe(true);
  expect(condition(status, 'IPVSVerified')!.message).toBe('All 4 expected IPVS virtual servers match what was observed.');
  expect(status).toMatchObject({ observedGeneration: 2, totalFindings: 0, omittedFindings: 0, findings: [], lastCheckTime: '2026-11-25T12:00:00.000Z' });
});

test('only the checked layers get a condition', () => {
  const status = buildStatus(input({ checks: ['ipvs', 'dns'] }));
  expect(status.conditions.map((c) => c.type)).toEqual(['IPVSVerified', 'DNSVerified', 'Ready', 'Progressing']);
  expect(Object.keys(status.layers)).toEqual(['ipvs', 'dns']);
});

test('kube-proxy\'s layer is repeated as serviceLayer (mode and status) for kubectl get; a lab without one has none', () => {
  expect(buildStatus(input()).serviceLayer).toEqual({ mode: 'ipvs', status: 'True' });
  const rule = finding('nat -A KUBE-SEP-X -j DNAT', { layer: 'iptables', message: 'rule missing' });
  const status = buildStatus(input({ checks: ['routes', 'iptables'], report: report({ iptables: { status: 'fail', findings: [rule] } }), classified: [classified(rule)] }));
  expect(status.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['RoutesVerified=True', 'IPTablesVerified=False', 'Ready=False', 'Progressing=False']);
  expect(status.serviceLayer).toEqual({ mode: 'iptables', status: 'False' });
  expect(buildStatus(input({ checks: ['nftables'] })).serviceLayer).toEqual({ mode: 'nftables', status: 'True' });
  expect(condition(buildStatus(input({ checks: ['nftables'] })), 'NFTablesVerified')!.message).toBe('All 4 expected nftables chains, rules and map elements match what was observed.');
  expect(buildStatus(input({ checks: ['dns'] }))).not.toHaveProperty('serviceLayer');
});

test('a firm difference makes its layer False and Ready False, naming the first difference', () => {
  const stale = finding('TCP 10.96.0.10:53 -> 10.244.0.99:53', { kind: 'unexpected', message: 'real server 10.244.0.99:53 is not an endpoint of kube-system/kube-dns' });
  const status = buildStatus(input({ report: report({ ipvs: { status: 'fail', findings: [stale] } }), classified: [classified(stale)] }));
  expect(condition(status, 'IPVSVerified')).toMatchObject({ status: 'False', reason: 'Mismatched' });
  expect(condition(status, 'IPVSVerified')!.message).toBe('1 difference (1 unexpected). First: real server 10.244.0.99:53 is not an endpoint of kube-system/kube-dns');
  expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'LayersFailed', message: 'Not verified: IPVSVerified.' });
  expect(status.findings[0]).toMatchObject({ layer: 'ipvs', kind: 'unexpected', node: 'node-1', converging: false, firstSeen: '2026-11-25T12:00:00.000Z' });
  expect(status.findings[0]).not.toHaveProperty('observed'); // null fields are left out, as the schema has no nulls
});

test('a node whose probe failed makes the layer Unknown (ProbeFailed) naming the node, never False', () => {
  const status = buildStatus(input({ report: report({ routes: { status: 'unknown', unknown: ['node node-2: route -n failed: timed out after 10000 ms'] } }) }));
  expect(condition(status, 'RoutesVerified')).toMatchObject({ status: 'Unknown', reason: 'ProbeFailed' });
  expect(condition(status, 'RoutesVerified')!.message).toContain('node node-2: route -n failed');
  expect(condition(status, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'ProbeFailed' });
});

test('a difference inside the grace window is Converging: Unknown, Ready Unknown, Progressing True', () => {
  const fresh = finding('TCP 10.96.0.20:80');
  const status = buildStatus(
    input({ report: report({ ipvs: { status: 'fail', findings: [fresh] } }), classified: [classified(fresh, true)], lastChange: { at: T0 - 500, what: 'Service default/web added' } }),
  );
  expect(condition(status, 'IPVSVerified')).toMatchObject({ status: 'Unknown', reason: 'Converging' });
  expect(condition(status, 'IPVSVerified')!.message).toContain('after Service default/web added at 2026-11-25T11:59:59.500Z');
  expect(condition(status, 'IPVSVerified')!.message).toContain('Still present at 2026-11-25T12:00:30.000Z, they count as failures');
  expect(condition(status, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'Converging' });
  expect(condition(status, 'Progressing')).toMatchObject({ status: 'True', reason: 'Converging' });
  expect(status.findings[0]!.converging).toBe(true);
});

test('lastTransitionTime only moves when the status changes; transitions list exactly the changes', () => {
  const first = buildStatus(input());
  const stale = finding('x');
  const later = buildStatus(input({ now: T0 + 60_000, previous: first, report: report({ ipvs: { findings: [stale] } }), classified: [classified(stale)] }));
  expect(condition(later, 'RoutesVerified')!.lastTransitionTime).toBe(condition(first, 'RoutesVerified')!.lastTransitionTime);
  expect(condition(later, 'IPVSVerified')!.lastTransitionTime).toBe('2026-11-25T12:01:00.000Z');
  expect(transitions(first.conditions, later.conditions).map((t) => `${t.type}: ${t.from} -> ${t.to}`)).toEqual(['IPVSVerified: True -> False', 'Ready: True -> False']);
  expect(transitions([], first.conditions)).toHaveLength(6);
});

test('100,000 findings: 50 kept (firm before converging), the rest counted, the object far below 1.5 MiB', () => {
  const long = 'x'.repeat(10_000);
  const many: ClassifiedFinding[] = [];
  for (let i = 0; i < 100_000; i++) {
    const f = finding(`TCP 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`, { node: `node-${i % 1000}`, message: long, cause: long, next: long, expected: long, observed: long });
    many.push(classified(f, i % 2 === 0));
  }
  const started = performance.now();
  const status = buildStatus(input({ report: report({ ipvs: { findings: many.map((c) => c.finding) } }), classified: many }));
  const ms = performance.now() - started;
  const bytes = Buffer.byteLength(JSON.stringify(status));
  expect(status.findings).toHaveLength(LIMITS.findings);
  expect(status.totalFindings).toBe(100_000);
  expect(status.omittedFindings).toBe(99_950);
  expect(status.findings.every((f) => !f.converging)).toBe(true);
  expect(status.findings.every((f) => f.message.length <= LIMITS.findingText && (f.expected ?? '').length <= LIMITS.findingLine)).toBe(true);
  expect(bytes).toBeLessThan(300 * 1024);
  expect(ms).toBeLessThan(5_000);
});

test('capFindings keeps the most urgent in a stable order: layer, then node, then key', () => {
  const items = [finding('b', { layer: 'dns', node: null }), finding('z', { node: 'node-2' }), finding('a', { node: 'node-2' }), finding('q', { layer: 'routes', node: 'node-9' })];
  const { findings, omitted } = capFindings(items.map((f) => classified(f)));
  expect(findings.map((f) => `${f.layer}/${f.node ?? '-'}/${f.key}`)).toEqual(['routes/node-9/q', 'ipvs/node-2/a', 'ipvs/node-2/z', 'dns/-/b']);
  expect(omitted).toBe(0);
});

test('a write is needed when anything but lastCheckTime changed, or when the heartbeat is due', () => {
  const before = buildStatus(input());
  const sameLater = buildStatus(input({ now: T0 + 5_000, previous: before }));
  expect(needsWrite(undefined, before, 60_000)).toBe(true);
  expect(needsWrite(before, sameLater, 60_000)).toBe(false);
  expect(needsWrite(before, buildStatus(input({ now: T0 + 60_000, previous: before })), 60_000)).toBe(true);
  // the API server returns keys in its own order: not a change
  const reverseKeys = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(reverseKeys) : typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)])) : value;
  const reordered = reverseKeys(before) as NetworkLabStatus;
  expect(Object.keys(reordered)[0]).toBe('lastCheckTime');
  expect(needsWrite(reordered, sameLater, 60_000)).toBe(false);
  const changed = buildStatus(input({ now: T0 + 5_000, previous: before, generation: 3 }));
  expect(needsWrite(before, changed, 60_000)).toBe(true);
});

test('an invalid spec leaves only Ready False with reason InvalidSpec', () => {
  const status = invalidSpecStatus(4, 'NetworkLab a/b: spec.interval must be between 10s and 24h, got 5s', undefined, T0);
  expect(status.conditions).toEqual([
    { type: 'Ready', status: 'False', observedGeneration: 4, lastTransitionTime: '2026-11-25T12:00:00.000Z', reason: 'InvalidSpec', message: 'NetworkLab a/b: spec.interval must be between 10s and 24h, got 5s' },
  ]);
});
