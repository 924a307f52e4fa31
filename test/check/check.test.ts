import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkLab, DEFAULT_CHECKS } from '../../src/check/check.ts';
import { injectFaults } from '../../src/cli/commands/demo.ts';
import { DEMO_FAULTS } from '../../src/demo/faults.ts';
import { readObservationDir } from '../../src/observe/files.ts';
import { loadSnapshotDir } from '../../src/snapshot/load.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import type { Observation } from '../../src/observation/types.ts';

const example = fileURLToPath(new URL('../../examples/seed/', import.meta.url));
let snapshot: ClusterSnapshot;
let observation: Observation;
beforeAll(async () => {
  snapshot = await loadSnapshotDir(`${example}snapshot`);
  observation = await readObservationDir(`${example}observed`);
});

describe('checkLab on the seed example (real captured output of node-1)', () => {
  test('the real observation passes routes, ipvs and resolv.conf with no findings', () => {
    const report = checkLab(snapshot, observation, { layers: DEFAULT_CHECKS, nodes: ['node-1'] });
    expect(report.layers.routes).toMatchObject({ status: 'pass', counts: { expected: 6, observed: 6 } });
    expect(report.layers.ipvs).toMatchObject({ status: 'pass', counts: { expected: 4, observed: 4 } });
    expect(report.layers.resolvconf.status).toBe('pass');
    // no DNS answers were captured: the layer is unknown, never a pass
    expect(report.layers.dns.status).toBe('unknown');
  });

  test('each injected fault produces exactly its finding and nothing else', () => {
    const report = checkLab(snapshot, injectFaults(observation), { layers: DEFAULT_CHECKS, nodes: ['node-1'] });
    const findings = Object.values(report.layers).flatMap((l) => l.findings.map((f) => `${f.layer} ${f.kind} ${f.key}`));
    expect(findings.sort()).toEqual([
      'ipvs mismatch TCP 10.96.0.1:443',
      'ipvs unexpected TCP 10.96.0.10:53 -> 10.244.0.139:53',
      'resolvconf mismatch options ndots',
      'routes missing 10.244.2.0/24',
    ]);
    expect(findings).toHaveLength(DEMO_FAULTS.length);
  });

  test('every observed line is explained', () => {
    const report = checkLab(snapshot, observation, { layers: DEFAULT_CHECKS, nodes: ['node-1'] });
    const lines = report.sections.flatMap((s) => s.lines);
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) expect(line.explanation.length).toBeGreaterThan(20);
    const tunnel = lines.find((l) => l.text.startsWith('10.244.1.0'))!;
    expect(tunnel.explanation).toMatch(/block 10\.244\.1\.0\/24 live on node node-2.*IP-in-IP tunnel.*10\.130\.29\.81/);
    const dns = lines.find((l) => l.text.startsWith('TCP  10.96.0.10:53'))!;
    expect(dns.explanation).toMatch(/kube-system\/kube-dns.*rr = round-robin.*coredns/);
  });
});

describe('checkLab when observation fails', () => {
  const routeN = readFileSync(`${example}observed/node-1/route-n.txt`, 'utf8');

  test('a node whose probe failed makes the layer unknown naming the node; other nodes keep their result', () => {
    const obs: Observation = { nodes: [{ node: 'node-1', routeN }, { node: 'node-2', routeN: new Error('exec timed out after 10s') }] };
    const r = checkLab(snapshot, obs, { layers: ['routes'], nodes: ['node-1', 'node-2'] }).layers.routes;
    expect(r.status).toBe('unknown');
    expect(r.unknown).toEqual(['node node-2: route -n failed: exec timed out after 10s']);
    expect(r.unreadable).toBe(true);
    expect(r.counts.observed).toBe(6);
  });

  test('a node with no output at all is not checked, but nothing was unreadable', () => {
    const r = checkLab(snapshot, { nodes: [{ node: 'node-1', routeN }] }, { layers: ['routes'], nodes: ['node-1', 'node-2'] }).layers.routes;
    expect(r.status).toBe('unknown');
    expect(r.unknown).toEqual(['node node-2: no route -n output was observed']);
    expect(r.unreadable).toBe(false);
  });

  test('unparsable output is unknown with the parse error (line number and text), never a crash', () => {
    const obs: Observation = { nodes: [{ node: 'node-1', routeN: `${routeN}this is not a route\n` }] };
    const r = checkLab(snapshot, obs, { layers: ['routes'], nodes: ['node-1'] }).layers.routes;
    expect(r.status).toBe('unknown');
    expect(r.unknown[0]).toMatch(/node node-1: .*node-1:route -n:11.*this is not a route/s);
    expect(r.unreadable).toBe(true);
  });

  test('a finding on one node beats an unknown on another: the layer fails', () => {
    const broken = routeN.split('\n').filter((l) => !l.startsWith('10.244.1.0')).join('\n');
    const obs: Observation = { nodes: [{ node: 'node-1', routeN: broken }, { node: 'node-2', routeN: new Error('no probe pod on node-2') }] };
    const r = checkLab(snapshot, obs, { layers: ['routes'], nodes: ['node-1', 'node-2'] }).layers.routes;
    expect(r.status).toBe('fail');
    expect(r.findings.map((f) => f.key)).toEqual(['10.244.1.0/24']);
    expect(r.unknown).toHaveLength(1);
  });

  test('lab DNS queries: an explicit expectation is checked as given; an unpredictable one is noted, not guessed', () => {
    const report = checkLab(snapshot, { nodes: [], dns: [{ query: { name: 'kube-dns.kube-system.svc.cluster.local', type: 'A' }, server: 's', answer: { rcode: 'NOERROR', answers: [{ name: 'kube-dns.kube-system.svc.cluster.local', type: 'A', data: '10.96.0.10' }] } }] }, {
      layers: ['dns'],
      namespaces: ['kube-system'],
      dnsQueries: [{ name: 'kube-dns.kube-system.svc.cluster.local.', type: 'A', expect: ['10.96.0.99'] }, { name: 'example.org', type: 'A' }],
    });
    const dns = report.layers.dns;
    expect(dns.findings.map((f) => f.key)).toContain('kube-dns.kube-system.svc.cluster.local A @s');
    expect(dns.notes.join('\n')).toContain('example.org A');
  });
});
