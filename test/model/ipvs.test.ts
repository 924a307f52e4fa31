import { readFileSync } from 'node:fs';
import { expectedIpvs } from '../../src/model/ipvs.ts';
import type { ExpectedVirtualServer, NodeIpvs } from '../../src/model/types.ts';
import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';
import { parseIpAddr } from '../../src/parse/ip-addr.ts';
import type { IpvsService } from '../../src/parse/types.ts';
import type { ClusterSnapshot, ServiceView } from '../../src/snapshot/types.ts';
import { readCapture } from '../fixtures/captures/read.ts';
import { makeEndpoint, makeNode, makeService, makeSlice, makeSnapshot } from './builders.ts';

const key = (vs: ExpectedVirtualServer) => `${vs.protocol} ${vs.address}:${vs.port}`;
const keys = (ipvs: NodeIpvs) => ipvs.services.map(key);
const servers = (vs: ExpectedVirtualServer | undefined) => (vs ? vs.realServers.map((rs) => `${rs.address}:${rs.port}`) : []);
const find = (ipvs: NodeIpvs, wanted: string) => ipvs.services.find((vs) => key(vs) === wanted);
/** The NodePort virtual servers as a sorted set (their listing order is tested with the ordering rules). */
const nodePortKeys = (ipvs: NodeIpvs) => ipvs.services.filter((vs) => vs.why.kind === 'NodePort').map(key).sort();

/** Two nodes; Service default/web on 10.96.0.20 with endpoints 10.244.0.5 (node-1) and 10.244.1.5 (node-2). */
function webSnapshot(service: Partial<ServiceView> = {}, endpoints = [makeEndpoint('10.244.0.5', 'node-1', 'web-a'), makeEndpoint('10.244.1.5', 'node-2', 'web-b')]): ClusterSnapshot {
  return makeSnapshot({
    nodes: [makeNode('node-1', '10.130.29.80'), makeNode('node-2', '10.130.29.81')],
    services: [makeService('default', 'web', ['10.96.0.20'], service)],
    endpointSlices: [makeSlice('default', 'web', endpoints)],
  });
}

const nodePort = { ports: [{ name: 'http', protocol: 'TCP' as const, port: 80, targetPort: 8080, nodePort: 30080 }], type: 'NodePort' as const };

describe('virtual servers', () => {
  test('a ClusterIP Service gets one virtual server per port, real servers from its ready endpoints, Masq weight 1', () => {
    const ipvs = expectedIpvs(webSnapshot(), 'node-1');
    expect(ipvs.services).toHaveLength(1);
    const { why, ...vs } = ipvs.services[0]!;
    expect(vs).toEqual({
      protocol: 'TCP', address: '10.96.0.20', port: 80, fwmark: null, scheduler: 'rr', persistent: null, netmask: null, flags: [],
      realServers: [
        { address: '10.244.0.5', port: 8080, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
        { address: '10.244.1.5', port: 8080, forward: 'Masq', weight: 1, activeConn: 0, inactConn: 0 },
      ],
    });
    expect(why).toEqual({
      namespace: 'default', service: 'web', portName: 'http', kind: 'ClusterIP', policy: 'Cluster', localFallback: false,
      realServers: [
        { namespace: 'default', pod: 'web-a', node: 'node-1', reason: 'ready' },
        { namespace: 'default', pod: 'web-b', node: 'node-2', reason: 'ready' },
      ],
    });
  });

  test('headless and ExternalName Services get no virtual server', () => {
    const snapshot = webSnapshot();
    snapshot.services.push(
      makeService('default', 'db', [], { headless: true }),
      makeService('default', 'ext', [], { type: 'ExternalName', externalName: 'example.com' }),
    );
    expect(keys(expectedIpvs(snapshot, 'node-1'))).toEqual(['TCP 10.96.0.20:80']);
  });

  test('a Service without endpoints keeps its virtual server, with no real server', () => {
    const ipvs = expectedIpvs(webSnapshot({}, []), 'node-1');
    expect(keys(ipvs)).toEqual(['TCP 10.96.0.20:80']);
    expect(ipvs.services[0]!.realServers).toEqual([]);
  });

  test('the scheduler is kube-proxy\'s ipvs.scheduler ("" means rr); mh adds the mh-port flag', () => {
    const snapshot = webSnapshot();
    expect(expectedIpvs(snapshot, 'node-1').services[0]!.scheduler).toBe('rr');
    snapshot.kubeProxy.scheduler = 'lc';
    expect(expectedIpvs(snapshot, 'node-1').services[0]).toMatchObject({ scheduler: 'lc', flags: [] });
    snapshot.kubeProxy.scheduler = 'mh';
    expect(expectedIpvs(snapshot, 'node-1').services[0]).toMatchObject({ scheduler: 'mh', flags: ['mh-port'] });
  });

  test('ClientIP session affinity makes the service persistent for its timeout (10800 when unset), never with a mask', () => {
    expect(expectedIpvs(webSnapshot({ sessionAffinity: 'ClientIP', sessionAffinityTimeoutSeconds: 600 }), 'node-1').services[0]).toMatchObject({ persistent: 600, netmask: null });
    expect(expectedIpvs(webSnapshot({ sessionAffinity: 'ClientIP' }), 'node-1').services[0]!.persistent).toBe(10800);
  });

  test('externalIPs and LoadBalancer ingress IPs get virtual servers on the service port', () => {
    const ipvs = expectedIpvs(webSnapshot({ externalIPs: ['192.0.2.10'], loadBalancerIngressIPs: ['198.51.100.7'], type: 'LoadBalancer' }), 'node-1');
    expect(find(ipvs, 'TCP 192.0.2.10:80')!.why.kind).toBe('ExternalIP');
    expect(find(ipvs, 'TCP 198.51.100.7:80')!.why.kind).toBe('LoadBalancer');
    expect(servers(find(ipvs, 'TCP 192.0.2.10:80'))).toEqual(['10.244.0.5:8080', '10.244.1.5:8080']);
  });

  test('each service port is its own virtual server, and its real servers come from the slice port of the same name and protocol', () => {
    const snapshot = webSnapshot({
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: null },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353, nodePort: null },
      ],
    });
    snapshot.endpointSlices[0]!.ports = [
      { name: 'http', protocol: 'TCP', port: 8080 },
      { name: 'dns', protocol: 'UDP', port: 5353 },
      { name: 'dns', protocol: 'TCP', port: 9999 },
    ];
    const ipvs = expectedIpvs(snapshot, 'node-1');
    expect(keys(ipvs)).toEqual(['TCP 10.96.0.20:80', 'UDP 10.96.0.20:53']);
    expect(servers(find(ipvs, 'UDP 10.96.0.20:53'))).toEqual(['10.244.0.5:5353', '10.244.1.5:5353']);
  });

  test('an unknown node is an error naming the nodes there are', () => {
    expect(() => expectedIpvs(webSnapshot(), 'node-7')).toThrow('node "node-7" is not in the snapshot (nodes: node-1, node-2)');
  });
});

describe('NodePorts', () => {
  // Real `ip -o addr` of a node-like network namespace: ens5 10.130.29.80 (+ .90 secondary, 192.168.50.4
  // labelled), docker0 172.17.0.1, vxlan.calico 10.244.25.0, a point-to-point 10.0.0.1, link-scope 169.254.3.3,
  // and kube-ipvs0 holding 10.96.0.1 and 10.111.151.87 (see test/fixtures/captures/README.md).
  const interfaces = parseIpAddr(readCapture('netns-ip-o-addr.txt'));

  test('observed addresses: a NodePort opens on every address of every interface but kube-ipvs0 and loopback (MatchAll)', () => {
    const ipvs = expectedIpvs(webSnapshot(nodePort), 'node-1', { interfaces });
    expect(nodePortKeys(ipvs)).toEqual([
      'TCP 10.0.0.1:30080', 'TCP 10.130.29.80:30080', 'TCP 10.130.29.90:30080', 'TCP 10.244.25.0:30080', 'TCP 10.5.5.5:30080',
      'TCP 10.96.0.10:30080', 'TCP 169.254.3.3:30080', 'TCP 172.17.0.1:30080', 'TCP 192.168.50.4:30080',
    ]);
    expect(find(ipvs, 'TCP 172.17.0.1:30080')!.why.nodeAddress).toEqual({ observed: true, iface: 'docker0' });
    expect(ipvs.nodePortsOnAnyAddress).toBeUndefined();
  });

  test('observed addresses, nodePortAddresses CIDRs: every interface address inside them, kube-ipvs0 included', () => {
    const snapshot = webSnapshot(nodePort);
    snapshot.kubeProxy.nodePortAddresses = ['10.96.0.0/12', '172.17.0.0/16', 'fd00::/8'];
    const ipvs = expectedIpvs(snapshot, 'node-1', { interfaces });
    expect(nodePortKeys(ipvs)).toEqual(['TCP 10.111.151.87:30080', 'TCP 10.96.0.10:30080', 'TCP 10.96.0.1:30080', 'TCP 172.17.0.1:30080']);
    // 10.96.0.10 is on docker0 in this capture: the explanation names that interface, not kube-ipvs0
    expect(find(ipvs, 'TCP 10.96.0.10:30080')!.why.nodeAddress).toEqual({ observed: true, iface: 'docker0' });
    expect(find(ipvs, 'TCP 10.96.0.1:30080')!.why.nodeAddress).toEqual({ observed: true, iface: 'kube-ipvs0' });
  });

  test('observed addresses, "primary": the node IP as a /32, so a NodePort only when an interface holds it', () => {
    const snapshot = webSnapshot(nodePort);
    snapshot.kubeProxy.nodePortAddresses = ['primary'];
    const ipvs = expectedIpvs(snapshot, 'node-1', { interfaces });
    expect(nodePortKeys(ipvs)).toEqual(['TCP 10.130.29.80:30080']);
    expect(find(ipvs, 'TCP 10.130.29.80:30080')!.why.nodeAddress).toEqual({ observed: true, iface: 'ens5' });
    // a node IP that no interface holds (a cloud's NAT address as the only address): no NodePort at all
    snapshot.nodes[0] = makeNode('node-1', '203.0.113.4');
    expect(nodePortKeys(expectedIpvs(snapshot, 'node-1', { interfaces }))).toEqual([]);
  });

  test('keywords: "all" is every address, "localhost" is loopback, which IPVS never uses', () => {
    const snapshot = webSnapshot(nodePort);
    snapshot.kubeProxy.nodePortAddresses = ['all'];
    expect(nodePortKeys(expectedIpvs(snapshot, 'node-1', { interfaces }))).toHaveLength(9);
    snapshot.kubeProxy.nodePortAddresses = ['localhost'];
    expect(nodePortKeys(expectedIpvs(snapshot, 'node-1', { interfaces }))).toEqual([]);
  });

  test('not observed: the InternalIP and the Calico addresses, never an ExternalIP; the rest is recognised by port', () => {
    const snapshot = webSnapshot(nodePort);
    snapshot.nodes[0] = makeNode('node-1', '10.130.29.80', {
      addresses: [
        { type: 'InternalIP', address: '10.130.29.80' },
        { type: 'ExternalIP', address: '203.0.113.4' },
        { type: 'Hostname', address: 'node-1' },
      ],
      calico: { ipv4Address: '10.130.29.80/24', ipipTunnelAddr: '10.244.0.1' },
    });
    const ipvs = expectedIpvs(snapshot, 'node-1');
    expect(nodePortKeys(ipvs)).toEqual(['TCP 10.130.29.80:30080', 'TCP 10.244.0.1:30080']);
    expect(find(ipvs, 'TCP 10.130.29.80:30080')!.why.nodeAddress).toEqual({ observed: false, field: 'InternalIP' });
    expect(ipvs.nodePortsOnAnyAddress!.map(key)).toEqual(['TCP 0.0.0.0:30080']);
    expect(ipvs.nodePortsOnAnyAddress![0]!.why.nodeAddress).toBeNull();
  });

  test('not observed, "primary": one address is certain, so nothing is recognised by port', () => {
    const snapshot = webSnapshot(nodePort);
    snapshot.kubeProxy.nodePortAddresses = ['primary'];
    const ipvs = expectedIpvs(snapshot, 'node-1');
    expect(nodePortKeys(ipvs)).toEqual(['TCP 10.130.29.80:30080']);
    expect(ipvs.nodePortsOnAnyAddress).toBeUndefined();
  });

  test('not observed, CIDRs: a NodePort is recognised by port only inside them', () => {
    const snapshot = webSnapshot(nodePort);
    snapshot.kubeProxy.nodePortAddresses = ['10.0.0.0/8'];
    const ipvs = expectedIpvs(snapshot, 'node-1');
    expect(nodePortKeys(ipvs)).toEqual(['TCP 10.130.29.80:30080']);
    expect(ipvs.nodePortsOnAnyAddress![0]!.why.nodeAddressWithin).toEqual(['10.0.0.0/8']);
  });

  test('a bad nodePortAddresses CIDR is an error that says where it came from', () => {
    const snapshot = webSnapshot(nodePort);
    snapshot.kubeProxy.nodePortAddresses = ['10.0.0.0/40'];
    expect(() => expectedIpvs(snapshot, 'node-1')).toThrow(/^kube-proxy nodePortAddresses: /);
  });
});

describe('address families', () => {
  test('a dual-stack Service gets IPv6 virtual servers with the IPv6 slice\'s endpoints; a v4-only one none', () => {
    const snapshot = webSnapshot({ clusterIPs: ['10.96.0.20', 'fd00:10:96::20'] });
    snapshot.endpointSlices.push(makeSlice('default', 'web', [makeEndpoint('fd00:10:244::5', 'node-2', 'web-b')], { name: 'web-v6', addressType: 'IPv6' }));
    snapshot.services.push(makeService('default', 'v4only', ['10.96.0.30'], { externalIPs: ['2001:db8::1'] }));
    const ipvs = expectedIpvs(snapshot, 'node-1');
    expect(keys(ipvs)).toEqual(['TCP 10.96.0.20:80', 'TCP 10.96.0.30:80', 'TCP fd00:10:96::20:80']);
    expect(servers(find(ipvs, 'TCP 10.96.0.20:80'))).toEqual(['10.244.0.5:8080', '10.244.1.5:8080']);
    expect(servers(find(ipvs, 'TCP fd00:10:96::20:80'))).toEqual(['fd00:10:244::5:8080']);
  });
});

describe('endpoint choice', () => {
  test('only ready endpoints are cluster endpoints', () => {
    const ipvs = expectedIpvs(webSnapshot({}, [makeEndpoint('10.244.0.5', 'node-1', 'a'), makeEndpoint('10.244.1.5', 'node-2', 'b', { ready: false, serving: false })]), 'node-1');
    expect(servers(ipvs.services[0])).toEqual(['10.244.0.5:8080']);
  });

  test('with no ready endpoint anywhere, the serving and terminating ones are used', () => {
    const terminating = { ready: false, serving: true, terminating: true };
    const ipvs = expectedIpvs(webSnapshot({}, [makeEndpoint('10.244.0.5', 'node-1', 'a', terminating), makeEndpoint('10.244.1.5', 'node-2', 'b', { ready: false, serving: false, terminating: true })]), 'node-1');
    expect(servers(ipvs.services[0])).toEqual(['10.244.0.5:8080']);
    expect(ipvs.services[0]!.why.realServers[0]!.reason).toBe('serving-terminating');
  });

  test('internalTrafficPolicy Local: the ClusterIP gets only this node\'s ready endpoints', () => {
    const ipvs = expectedIpvs(webSnapshot({ internalTrafficPolicy: 'Local' }), 'node-1');
    expect(servers(ipvs.services[0])).toEqual(['10.244.0.5:8080']);
    expect(ipvs.services[0]!.why).toMatchObject({ policy: 'Local', localFallback: false, realServers: [{ reason: 'local' }] });
  });

  test('Local policy with no ready local endpoint falls back to this node\'s serving and terminating ones', () => {
    const endpoints = [makeEndpoint('10.244.0.5', 'node-1', 'a', { ready: false, serving: true, terminating: true }), makeEndpoint('10.244.1.5', 'node-2', 'b')];
    const ipvs = expectedIpvs(webSnapshot({ internalTrafficPolicy: 'Local' }, endpoints), 'node-1');
    expect(servers(ipvs.services[0])).toEqual(['10.244.0.5:8080']);
    expect(ipvs.services[0]!.why.realServers[0]!.reason).toBe('local-serving-terminating');
  });

  test('internalTrafficPolicy Local on a ClusterIP-only Service, no local endpoint: no real server (no cluster endpoints computed)', () => {
    const ipvs = expectedIpvs(webSnapshot({ internalTrafficPolicy: 'Local' }, [makeEndpoint('10.244.1.5', 'node-2', 'b')]), 'node-1');
    expect(ipvs.services[0]!.realServers).toEqual([]);
    expect(ipvs.services[0]!.why.localFallback).toBe(true);
  });

  test('externalTrafficPolicy Local: the NodePort gets local endpoints, the ClusterIP still all of them', () => {
    const ipvs = expectedIpvs(webSnapshot({ ...nodePort, externalTrafficPolicy: 'Local' }), 'node-1');
    expect(servers(find(ipvs, 'TCP 10.130.29.80:30080'))).toEqual(['10.244.0.5:8080']);
    expect(find(ipvs, 'TCP 10.130.29.80:30080')!.why.policy).toBe('Local');
    expect(servers(find(ipvs, 'TCP 10.96.0.20:80'))).toEqual(['10.244.0.5:8080', '10.244.1.5:8080']);
  });

  test('PR 97081: Local policy and no local endpoint gives the NodePort the cluster endpoints', () => {
    const ipvs = expectedIpvs(webSnapshot({ ...nodePort, externalTrafficPolicy: 'Local' }, [makeEndpoint('10.244.1.5', 'node-2', 'b')]), 'node-1');
    const vs = find(ipvs, 'TCP 10.130.29.80:30080')!;
    expect(servers(vs)).toEqual(['10.244.1.5:8080']);
    expect(vs.why).toMatchObject({ policy: 'Local', localFallback: true, realServers: [{ reason: 'ready' }] });
  });

  test('internalTrafficPolicy Local on a NodePort Service: cluster endpoints exist, so the ClusterIP falls back to them', () => {
    const ipvs = expectedIpvs(webSnapshot({ ...nodePort, internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local' }, [makeEndpoint('10.244.1.5', 'node-2', 'b')]), 'node-1');
    expect(servers(find(ipvs, 'TCP 10.96.0.20:80'))).toEqual(['10.244.1.5:8080']);
  });

  test('the same address:port in two slices is one real server', () => {
    const snapshot = webSnapshot();
    snapshot.endpointSlices.push(makeSlice('default', 'web', [makeEndpoint('10.244.1.5', 'node-2', 'web-b')], { name: 'web-second' }));
    expect(servers(expectedIpvs(snapshot, 'node-1').services[0])).toEqual(['10.244.0.5:8080', '10.244.1.5:8080']);
  });

  test('FQDN slices, slice ports without a number and all but the first address of an endpoint are ignored', () => {
    const snapshot = webSnapshot({}, [makeEndpoint('10.244.0.5', 'node-1', 'a', { addresses: ['10.244.0.5', '10.244.0.6'] })]);
    snapshot.endpointSlices.push(
      makeSlice('default', 'web', [makeEndpoint('web.example.com', null, null)], { name: 'web-fqdn', addressType: 'FQDN' }),
      makeSlice('default', 'web', [makeEndpoint('10.244.1.9', 'node-2', 'c')], { name: 'web-noport', ports: [{ name: 'http', protocol: 'TCP', port: null }] }),
    );
    expect(servers(expectedIpvs(snapshot, 'node-1').services[0])).toEqual(['10.244.0.5:8080']);
  });
});

describe('order', () => {
  test('services come in ipvsadm order (protocol, then address, then port; IPv4 first); real servers by address', () => {
    const snapshot = makeSnapshot({
      nodes: [makeNode('node-1', '10.130.29.80')],
      services: [
        makeService('default', 'v6', ['fd00::1']),
        makeService('default', 'udp', ['10.96.0.5'], { ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: 53, nodePort: null }] }),
        makeService('default', 'b', ['10.96.0.10'], { ports: [{ name: 'x', protocol: 'TCP', port: 9153, targetPort: 9153, nodePort: null }, { name: 'y', protocol: 'TCP', port: 53, targetPort: 53, nodePort: null }] }),
        makeService('default', 'a', ['10.96.0.9']),
      ],
      endpointSlices: [makeSlice('default', 'a', [makeEndpoint('10.244.0.30', null, null), makeEndpoint('10.244.0.4', null, null), makeEndpoint('10.244.0.200', null, null)])],
    });
    const ipvs = expectedIpvs(snapshot, 'node-1');
    expect(keys(ipvs)).toEqual(['TCP 10.96.0.9:80', 'TCP 10.96.0.10:53', 'TCP 10.96.0.10:9153', 'UDP 10.96.0.5:53', 'TCP fd00::1:80']);
    expect(servers(ipvs.services[0])).toEqual(['10.244.0.4:8080', '10.244.0.30:8080', '10.244.0.200:8080']);
  });

  test('addresses 2^31 or more apart compare like ipvsadm\'s wrapping int subtraction: 192.168.x before 10.x', () => {
    const snapshot = makeSnapshot({
      nodes: [makeNode('node-1', '10.130.29.80')],
      services: [makeService('default', 'a', ['10.96.0.9']), makeService('default', 'b', ['192.168.0.9'])],
    });
    expect(keys(expectedIpvs(snapshot, 'node-1'))).toEqual(['TCP 192.168.0.9:80', 'TCP 10.96.0.9:80']);
  });
});

describe('the seed article\'s cluster', () => {
  // test/fixtures/captures/seed-ipvsadm-Ln.txt is the article's real `ipvsadm -Ln`, cut short after kube-dns TCP.
  const capture = parseIpvsadm(readFileSync(new URL('../fixtures/captures/seed-ipvsadm-Ln.txt', import.meta.url), 'utf8'), 'seed-ipvsadm-Ln.txt');

  test('the kubernetes and kube-dns TCP virtual servers equal the capture (counters aside)', () => {
    const dnsPorts = [
      { name: 'dns', protocol: 'UDP' as const, port: 53, targetPort: 53, nodePort: null },
      { name: 'dns-tcp', protocol: 'TCP' as const, port: 53, targetPort: 53, nodePort: null },
    ];
    const snapshot = makeSnapshot({
      nodes: ['80', '81', '82'].map((n, i) => makeNode(`node-${i + 1}`, `10.130.29.${n}`)),
      services: [
        makeService('default', 'kubernetes', ['10.96.0.1'], { ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443, nodePort: null }], selector: null }),
        makeService('kube-system', 'kube-dns', ['10.96.0.10'], { ports: dnsPorts }),
      ],
      endpointSlices: [
        makeSlice('default', 'kubernetes', ['80', '81', '82'].map((n) => makeEndpoint(`10.130.29.${n}`, null, null)), { ports: [{ name: 'https', protocol: 'TCP', port: 6443 }] }),
        makeSlice('kube-system', 'kube-dns', [makeEndpoint('10.244.0.137', 'node-1', 'coredns-a'), makeEndpoint('10.244.0.138', 'node-1', 'coredns-b')], {
          ports: [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }],
        }),
      ],
    });
    const withoutCounters = ({ realServers, ...vs }: IpvsService) => ({ ...vs, realServers: realServers.map(({ activeConn: _a, inactConn: _i, ...rs }) => rs) });
    const expected = expectedIpvs(snapshot, 'node-1').services.map(({ why: _, ...vs }) => withoutCounters(vs));
    expect(expected.slice(0, 2)).toEqual(capture.services.map(withoutCounters));
    expect(expected.map((vs) => `${vs.protocol} ${vs.address}:${vs.port}`)).toEqual(['TCP 10.96.0.1:443', 'TCP 10.96.0.10:53', 'UDP 10.96.0.10:53']);
  });
});
