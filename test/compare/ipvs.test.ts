import { readFileSync } from 'node:fs';
import { compareIpvs } from '../../src/compare/ipvs.ts';
import type { ExpectedVirtualServer, NodeIpvs } from '../../src/model/types.ts';
import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';

// Real `ipvsadm -Ln` of the seed article (cut short by the article after the kube-dns TCP service).
const seed = parseIpvsadm(readFileSync(new URL('../fixtures/captures/seed-ipvsadm-Ln.txt', import.meta.url), 'utf8'));

function vs(address: string, port: number, servers: [string, number][], service: string): ExpectedVirtualServer {
  return {
    protocol: 'TCP', address, port, fwmark: null, scheduler: 'rr', persistent: null, netmask: null, flags: [],
    realServers: servers.map(([a, p]) => ({ address: a, port: p, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 })),
    why: {
      namespace: 'kube-system', service, portName: 'dns-tcp', kind: 'ClusterIP', policy: 'Cluster', localFallback: false,
      realServers: servers.map(([a]) => ({ namespace: 'kube-system', pod: `pod-${a}`, node: 'node-1', reason: 'ready' as const })),
    },
  };
}

function seedExpectation(): NodeIpvs {
  return {
    node: 'node-1',
    services: [
      vs('10.96.0.1', 443, [['10.130.29.80', 6443], ['10.130.29.81', 6443], ['10.130.29.82', 6443]], 'kubernetes'),
      vs('10.96.0.10', 53, [['10.244.0.137', 53], ['10.244.0.138', 53]], 'kube-dns'),
    ],
  };
}

describe('compareIpvs on the real seed listing', () => {
  test('matching expectation: no findings, counters ignored (ActiveConn 6 on the first real server)', () => {
    const cmp = compareIpvs(seedExpectation(), seed);
    expect(cmp.findings).toEqual([]);
    expect(cmp.observed.map((o) => o.status)).toEqual(['ok', 'ok']);
  });

  test('a stale real server is unexpected; a missing one is missing; each is keyed by virtual and real server', () => {
    const exp = seedExpectation();
    exp.services[1]!.realServers[1] = { ...exp.services[1]!.realServers[1]!, address: '10.244.0.139' };
    const kinds = compareIpvs(exp, seed).findings.map((f) => [f.kind, f.key]);
    expect(kinds).toEqual([
      ['unexpected', 'TCP 10.96.0.10:53 -> 10.244.0.138:53'],
      ['missing', 'TCP 10.96.0.10:53 -> 10.244.0.139:53'],
    ]);
  });

  test('scheduler and persistence differences are one mismatch naming both fields', () => {
    const exp = seedExpectation();
    exp.services[0] = { ...exp.services[0]!, scheduler: 'sh', persistent: 10800 };
    const [f] = compareIpvs(exp, seed).findings;
    expect(f).toMatchObject({ kind: 'mismatch', key: 'TCP 10.96.0.1:443', fields: ['scheduler', 'persistent'] });
    expect(f!.expected).toBe('TCP  10.96.0.1:443 sh persistent 10800');
  });

  test('virtual servers: missing when not programmed, unexpected when no Service explains them', () => {
    const exp = seedExpectation();
    const udp = { ...vs('10.96.0.10', 53, [], 'kube-dns'), protocol: 'UDP' as const };
    exp.services = [exp.services[1]!, udp];
    const kinds = compareIpvs(exp, seed).findings.map((f) => [f.kind, f.key]);
    expect(kinds).toEqual([['unexpected', 'TCP 10.96.0.1:443'], ['missing', 'UDP 10.96.0.10:53']]);
  });

  test('a removed endpoint kept with weight 0 is draining, not a finding; with weight 1 it is', () => {
    const exp = seedExpectation();
    exp.services[0]!.realServers.pop();
    exp.services[0]!.why.realServers.pop();
    const draining = structuredClone(seed);
    draining.services[0]!.realServers[2]!.weight = 0;
    const cmp = compareIpvs(exp, draining);
    expect(cmp.findings).toEqual([]);
    expect(cmp.observed[0]!.realServers.map((r) => r.status)).toEqual(['ok', 'ok', 'draining']);
    expect(compareIpvs(exp, seed).findings.map((f) => f.kind)).toEqual(['unexpected']);
  });

  test('a weight changed on an expected real server is a mismatch', () => {
    const changed = structuredClone(seed);
    changed.services[1]!.realServers[0]!.weight = 5;
    const [f] = compareIpvs(seedExpectation(), changed).findings;
    expect(f).toMatchObject({ kind: 'mismatch', fields: ['weight'], key: 'TCP 10.96.0.10:53 -> 10.244.0.137:53' });
  });
});

describe('NodePorts on addresses netlab did not observe', () => {
  /** The seed's kube-dns line read as a NodePort 53 on "any address of the node" (nodePortsOnAnyAddress). */
  function onAnyAddress(address: string, servers: [string, number][]): NodeIpvs {
    const template = vs(address, 53, servers, 'kube-dns');
    template.why = { ...template.why, kind: 'NodePort', nodeAddress: null };
    return { node: 'node-1', services: [seedExpectation().services[0]!], nodePortsOnAnyAddress: [template] };
  }

  test('an observed virtual server on that protocol, family and port is the NodePort: no finding, compared like any other', () => {
    const cmp = compareIpvs(onAnyAddress('0.0.0.0', [['10.244.0.137', 53], ['10.244.0.138', 53]]), seed);
    expect(cmp.findings).toEqual([]);
    const row = cmp.observed[1]!;
    expect(row.status).toBe('ok');
    expect(row.expected).toMatchObject({ address: '10.96.0.10', port: 53, why: { kind: 'NodePort', nodeAddress: null } });
  });

  test('its real servers are still checked; another family or port is not recognised', () => {
    const wrongServers = compareIpvs(onAnyAddress('0.0.0.0', [['10.244.0.137', 53]]), seed);
    expect(wrongServers.findings.map((f) => [f.kind, f.key])).toEqual([['unexpected', 'TCP 10.96.0.10:53 -> 10.244.0.138:53']]);
    const ipv6 = compareIpvs(onAnyAddress('::', [['10.244.0.137', 53], ['10.244.0.138', 53]]), seed);
    expect(ipv6.findings.map((f) => [f.kind, f.key])).toEqual([['unexpected', 'TCP 10.96.0.10:53']]);
  });

  test('a missing NodePort on an address inferred from the Node says the address may be on no interface', () => {
    const expectation = seedExpectation();
    const onInternalIP = vs('10.130.29.80', 30053, [['10.244.0.137', 53]], 'kube-dns');
    onInternalIP.why = { ...onInternalIP.why, kind: 'NodePort', nodeAddress: { observed: false, field: 'InternalIP' } };
    expectation.services.push(onInternalIP);
    const [finding] = compareIpvs(expectation, seed).findings;
    expect(finding).toMatchObject({ kind: 'missing', key: 'TCP 10.130.29.80:30053' });
    expect(finding!.cause).toContain("10.130.29.80 (the node's InternalIP) is on no interface of the node");
  });

  test('with nodePortAddresses CIDRs, only an address inside them is recognised', () => {
    const bounded = (cidr: string) => {
      const expectation = onAnyAddress('0.0.0.0', [['10.244.0.137', 53], ['10.244.0.138', 53]]);
      expectation.nodePortsOnAnyAddress![0]!.why.nodeAddressWithin = [cidr];
      return compareIpvs(expectation, seed).findings.map((f) => [f.kind, f.key]);
    };
    expect(bounded('10.96.0.0/12')).toEqual([]);
    expect(bounded('192.168.0.0/16')).toEqual([['unexpected', 'TCP 10.96.0.10:53']]);
  });
});
