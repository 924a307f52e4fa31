import { readObservationDir } from '../../src/observe/files.ts';
import { loadSnapshotDir } from '../../src/snapshot/load.ts';
import type { Observation } from '../../src/observation/types.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { injectFaults } from '../../src/cli/commands/demo.ts';
import { traceFlow } from '../../src/trace/trace.ts';
import { type DnsHop, type Hop, type RouteHop, type ServiceHop, TraceError, type TunnelHop } from '../../src/trace/types.ts';
import { makeBlock, makeEndpoint, makeNode, makePod, makePool, makeService, makeSlice, makeSnapshot } from '../model/builders.ts';

const SEED = new URL('../../examples/seed/', import.meta.url).pathname;
const RPC_NODE1 = 'default/rpc-75d9b7d7c9-2zzrx'; // 10.244.0.140 on node-1 (observed)
const RPC_NODE2 = 'default/rpc-75d9b7d7c9-x7m4q'; // 10.244.1.141 on node-2 (not observed)

let snapshot: ClusterSnapshot;
let observation: Observation;
beforeAll(async () => {
  snapshot = await loadSnapshotDir(`${SEED}snapshot`);
  observation = await readObservationDir(`${SEED}observed`);
});

const hop = <K extends Hop['kind']>(hops: Hop[], id: string) => hops.find((h) => h.id === id) as Extract<Hop, { kind: K }>;
const verdicts = (hops: Hop[]) => hops.map((h) => `${h.id}:${h.verdict}`);

describe('trace on the seed cluster (real node-1 output)', () => {
  test('a pod on node-1 to kube-dns.kube-system: search list, IPVS, the CoreDNS pod\'s veth, the reply', () => {
    const trace = traceFlow(snapshot, observation, { from: RPC_NODE1, to: 'kube-dns.kube-system' });
    expect(trace.hops.map((h) => h.kind)).toEqual(['source', 'dns', 'service', 'route', 'deliver', 'route', 'reply']);
    const dns = hop<'dns'>(trace.hops, 'dns') as DnsHop;
    expect(dns.resolvConf).toEqual({ nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5, from: 'observed' });
    expect(dns.queries.map((q) => [q.name, q.expected?.rcode])).toEqual([
      ['kube-dns.kube-system.default.svc.cluster.local', 'NXDOMAIN'],
      ['kube-dns.kube-system.svc.cluster.local', 'NOERROR'],
    ]);
    expect(dns.answer).toBe('10.96.0.10');
    expect(dns.verdict).toBe('expected'); // no DNS answers were captured
    const service = hop<'service'>(trace.hops, 'service') as ServiceHop;
    expect(service).toMatchObject({ verdict: 'ok', mechanism: 'ipvs', scheduler: 'rr', persistence: null, frontend: { protocol: 'TCP', address: '10.96.0.10', port: 53 } });
    expect(service.backends.map((b) => [b.address, b.observed, b.followed])).toEqual([['10.244.0.137', true, true], ['10.244.0.138', true, false]]);
    expect(service.lines.map((l) => l.text.trim())).toContain('TCP  10.96.0.10:53 rr');
    const route = hop<'route'>(trace.hops, 'route-source') as RouteHop;
    expect(route).toMatchObject({ verdict: 'ok', node: 'node-1', address: '10.244.0.137', outcome: { kind: 'local', iface: 'calid3c6b0469a6' } });
    expect(route.observed!.destination).toBe('10.244.0.137/32');
    expect(hop<'deliver'>(trace.hops, 'deliver')).toMatchObject({ verdict: 'ok', pod: { namespace: 'kube-system', name: 'coredns-78fcd69978-9v6wz' }, port: 53 });
    expect(hop<'route'>(trace.hops, 'route-reply')).toMatchObject({ verdict: 'ok', address: '10.244.0.140', outcome: { kind: 'local', iface: 'califb4eac25ec6' } });
    expect(trace.verdict).toBe('expected');
  });

  test('a pod on node-2 goes through the IP-in-IP tunnel to node-1; unobserved node-2 says so', () => {
    const trace = traceFlow(snapshot, observation, { from: RPC_NODE2, to: 'kube-dns.kube-system:53', protocol: 'UDP' });
    expect(trace.hops.map((h) => h.id)).toEqual(['source', 'dns', 'service', 'route-source', 'tunnel', 'route-destination', 'deliver', 'route-reply', 'reply']);
    expect(hop<'service'>(trace.hops, 'service')).toMatchObject({ verdict: 'expected', frontend: { protocol: 'UDP', port: 53 } });
    const source = hop<'route'>(trace.hops, 'route-source') as RouteHop;
    expect(source).toMatchObject({ verdict: 'expected', node: 'node-2', expected: { destination: '10.244.0.0/24', gateway: '10.130.29.80', iface: 'tunl0' } });
    expect(source.observed).toBeUndefined();
    expect(source.reason).toContain('No route -n output');
    const tunnel = hop<'tunnel'>(trace.hops, 'tunnel') as TunnelHop;
    expect(tunnel).toMatchObject({ tunnel: 'ipip', device: 'tunl0', fromNode: 'node-2', toNode: 'node-1', outer: { src: '10.130.29.81', dst: '10.130.29.80' } });
    expect(hop<'route'>(trace.hops, 'route-destination')).toMatchObject({ verdict: 'ok', node: 'node-1', outcome: { kind: 'local', iface: 'calid3c6b0469a6' } });
    // the reply leaves node-1 (observed) through the tunnel back to node-2's block
    expect(hop<'route'>(trace.hops, 'route-reply')).toMatchObject({ verdict: 'ok', node: 'node-1', observed: { destination: '10.244.1.0/24', iface: 'tunl0' } });
  });

  test('--endpoint picks the backend to follow; one that is not a backend is refused', () => {
    const trace = traceFlow(snapshot, observation, { from: RPC_NODE1, to: '10.96.0.10:53', endpoint: '10.244.0.138' });
    expect(hop<'deliver'>(trace.hops, 'deliver')).toMatchObject({ address: '10.244.0.138', pod: { name: 'coredns-78fcd69978-qjz5b' } });
    expect(() => traceFlow(snapshot, observation, { from: RPC_NODE1, to: '10.96.0.10:53', endpoint: '10.1.1.1' })).toThrow(TraceError);
  });

  test('the demo\'s faults turn exactly the hops they touch BROKEN, each saying why', () => {
    const faulty = injectFaults(observation);
    const trace = traceFlow(snapshot, faulty, { from: RPC_NODE1, to: 'kube-dns.kube-system' });
    // stale real server behind TCP 10.96.0.10:53, and ndots:2 in the pod's resolv.conf
    expect(verdicts(trace.hops).filter((v) => v.endsWith(':broken'))).toEqual(['dns:broken', 'service:broken']);
    const service = hop<'service'>(trace.hops, 'service') as ServiceHop;
    expect(service.reason).toContain('10.244.0.139:53');
    expect(service.backends.find((b) => b.address === '10.244.0.139')).toMatchObject({ observed: true, pod: null });
    expect(hop<'dns'>(trace.hops, 'dns').reason).toContain('ndots');
  });

  test('a missing tunnel route: the kernel falls back to the default route and the hop says so', () => {
    const noTunnel: Observation = {
      ...observation,
      nodes: observation.nodes.map((n) => ({ ...n, routeN: (n.routeN as string).split('\n').filter((l) => !l.startsWith('10.244.1.0 ')).join('\n') })),
    };
    const trace = traceFlow(snapshot, noTunnel, { from: RPC_NODE1, to: '10.244.1.141:8080' });
    expect(verdicts(trace.hops)).toEqual(['source:ok', 'route-source:broken']);
    const route = hop<'route'>(trace.hops, 'route-source') as RouteHop;
    expect(route.observed).toMatchObject({ destination: '0.0.0.0/0', gateway: '10.130.29.1', iface: 'ens32' });
    expect(route.reason).toContain('expects 10.244.1.0/24 via 10.130.29.81 on tunl0');
    expect(route.reason).toContain('is missing on node-1');
    expect(trace.summary).toMatch(/^BROKEN: .*Breaks at route on node-1/);
  });

  test('a node source: the kernel uses the tunnel address as the source, the reply comes back to it', () => {
    const trace = traceFlow(snapshot, observation, { from: 'node-2', to: '10.244.0.138:53' });
    expect(hop<'tunnel'>(trace.hops, 'tunnel')).toMatchObject({ outer: { src: '10.130.29.81', dst: '10.130.29.80' } });
    expect(hop<'route'>(trace.hops, 'route-reply')).toMatchObject({ address: '10.244.1.0', node: 'node-1', observed: { iface: 'tunl0' } });
  });

  test('requests that name nothing say what is wrong', () => {
    expect(() => traceFlow(snapshot, observation, { from: 'default/nope', to: 'kube-dns' })).toThrow('no pod nope in namespace default');
    expect(() => traceFlow(snapshot, observation, { from: 'node-9', to: 'kube-dns' })).toThrow('nodes: node-1, node-2, node-3');
    expect(() => traceFlow(snapshot, observation, { from: RPC_NODE1, to: '10.244.1.141' })).toThrow('give the port');
    expect(() => traceFlow(snapshot, observation, { from: RPC_NODE1, to: 'fd00::1' })).toThrow('IPv6');
  });

  test('a name that does not exist: every query NXDOMAIN in the cluster, the last one leaves it', () => {
    const trace = traceFlow(snapshot, observation, { from: RPC_NODE1, to: 'nosuch' });
    const dns = hop<'dns'>(trace.hops, 'dns') as DnsHop;
    expect(dns.queries.map((q) => q.expected?.rcode ?? 'upstream')).toEqual(['NXDOMAIN', 'NXDOMAIN', 'NXDOMAIN', 'upstream']);
    expect(dns).toMatchObject({ verdict: 'unknown', answer: null });
    expect(trace.hops).toHaveLength(2);
  });
});

describe('trace through VXLAN (built snapshot, nothing observed)', () => {
  const vxlanCluster = () => makeSnapshot({
    nodes: [
      makeNode('a', '192.168.1.10', { calico: { ipv4Address: '192.168.1.10/24', vxlanTunnelAddr: '10.244.0.1' } }),
      makeNode('b', '192.168.2.10', { calico: { ipv4Address: '192.168.2.10/24', vxlanTunnelAddr: '10.244.1.1' } }),
    ],
    ipPools: [makePool('10.244.0.0/16', { ipipMode: 'Never', vxlanMode: 'Always' })],
    ipamBlocks: [makeBlock('10.244.0.0/26', 'a'), makeBlock('10.244.1.0/26', 'b')],
    pods: [makePod('default', 'client', 'a', ['10.244.0.5']), makePod('default', 'web-1', 'b', ['10.244.1.7'])],
    services: [makeService('default', 'web', ['10.96.5.5'])],
    endpointSlices: [makeSlice('default', 'web', [makeEndpoint('10.244.1.7', 'b', 'web-1')])],
  });

  test('the route goes to the VTEP on vxlan.calico; the outer header is UDP 4789 to the owner node', () => {
    const trace = traceFlow(vxlanCluster(), null, { from: 'client', to: 'web' });
    expect(trace.hops.map((h) => h.id)).toEqual(['source', 'dns', 'service', 'route-source', 'tunnel', 'route-destination', 'deliver', 'route-reply', 'reply']);
    expect(hop<'route'>(trace.hops, 'route-source')).toMatchObject({ expected: { destination: '10.244.1.0/26', gateway: '10.244.1.1', iface: 'vxlan.calico' } });
    const tunnel = hop<'tunnel'>(trace.hops, 'tunnel') as TunnelHop;
    expect(tunnel).toMatchObject({ tunnel: 'vxlan', toNode: 'b', outer: { src: '192.168.1.10', dst: '192.168.2.10', protocol: 'UDP to port 4789, VNI 4096' } });
    expect(hop<'deliver'>(trace.hops, 'deliver')).toMatchObject({ pod: { name: 'web-1' }, port: 8080 });
    expect(verdicts(trace.hops.slice(1)).every((v) => v.endsWith(':expected'))).toBe(true);
  });

  test('a Service without endpoints breaks at the Service hop and the path stops there', () => {
    const cluster = { ...vxlanCluster(), endpointSlices: [] };
    const trace = traceFlow(cluster, null, { from: 'client', to: 'web:80' });
    expect(verdicts(trace.hops)).toEqual(['source:ok', 'dns:expected', 'service:broken']);
    expect(trace.hops[2]!.reason).toContain('no backend');
  });
});

describe('trace through Flannel (built snapshot, nothing observed)', () => {
  /** node-1, node-2 at 10.130.29.80-81 with podCIDRs 10.244.0-1.0/24, annotated by flanneld for `backend`. */
  const flannelCluster = (backend: 'vxlan' | 'host-gw') => makeSnapshot({
    nodes: [0, 1].map((i) => makeNode(`node-${i + 1}`, `10.130.29.8${i}`, {
      calico: {}, podCIDRs: [`10.244.${i}.0/24`],
      flannel: { kubeSubnetManager: true, backendType: backend, publicIP: `10.130.29.8${i}`, vni: backend === 'vxlan' ? 1 : null, vtepMAC: backend === 'vxlan' ? `5a:1c:9e:3f:20:0${i}` : null },
    })),
    pods: [makePod('default', 'web', 'node-1', ['10.244.0.2']), makePod('default', 'client', 'node-2', ['10.244.1.3'])],
  });

  test('VXLAN: flannel.1 to the other node\'s subnet .0, outer UDP 8472 VNI 1 to its public IP, the cni0 bridge into the pod', () => {
    const trace = traceFlow(flannelCluster('vxlan'), null, { from: 'client', to: '10.244.0.2:80' });
    expect(trace.hops.map((h) => h.id)).toEqual(['source', 'route-source', 'tunnel', 'route-destination', 'deliver', 'route-reply']);
    expect(hop<'route'>(trace.hops, 'route-source')).toMatchObject({ expected: { destination: '10.244.0.0/24', gateway: '10.244.0.0', iface: 'flannel.1' } });
    expect(hop<'tunnel'>(trace.hops, 'tunnel')).toMatchObject({ tunnel: 'vxlan', device: 'flannel.1', toNode: 'node-1', outer: { src: '10.130.29.81', dst: '10.130.29.80', protocol: 'UDP to port 8472, VNI 1' } });
    expect(hop<'route'>(trace.hops, 'route-destination')).toMatchObject({ node: 'node-1', outcome: { kind: 'local', iface: 'cni0', bridge: true, pod: { name: 'web' } } });
    expect(hop<'deliver'>(trace.hops, 'deliver').explanation).toBe('The bridge cni0 hands the packet to the veth of pod default/web (10.244.0.2), to port 80.');
  });

  test('a node source sends from its flannel.1 address, the .0 of its subnet, and the reply comes back to it', () => {
    const trace = traceFlow(flannelCluster('vxlan'), null, { from: 'node-2', to: '10.244.0.2:80' });
    expect(hop<'route'>(trace.hops, 'route-reply')).toMatchObject({ node: 'node-1', address: '10.244.1.0', expected: { iface: 'flannel.1' } });
  });

  test('host-gw: no tunnel, the other node\'s public IP as the gateway', () => {
    const trace = traceFlow(flannelCluster('host-gw'), null, { from: 'client', to: '10.244.0.2:80' });
    expect(trace.hops.map((h) => h.id)).toEqual(['source', 'route-source', 'route-destination', 'deliver', 'route-reply']);
    expect(hop<'route'>(trace.hops, 'route-source')).toMatchObject({ expected: { destination: '10.244.0.0/24', gateway: '10.130.29.80' }, outcome: { kind: 'host', toNode: 'node-1' } });
  });
});

test('every table line a hop names is a line of the check\'s report on the seed (the page links them)', async () => {
  const { checkLab } = await import('../../src/check/check.ts');
  const report = checkLab(snapshot, observation, { layers: ['routes', 'ipvs', 'dns', 'resolvconf'] });
  const shown = new Set(report.sections.flatMap((s) => s.lines.map((l) => `${s.layer} ${s.node} ${l.text.trim()}`)));
  const trace = traceFlow(snapshot, observation, { from: RPC_NODE1, to: 'kube-dns.kube-system' });
  const refs = trace.hops.flatMap((h) => h.lines);
  expect(refs.length).toBeGreaterThan(5);
  expect(refs.filter((r) => !shown.has(`${r.layer} ${r.node} ${r.text.trim()}`))).toEqual([]);
});
