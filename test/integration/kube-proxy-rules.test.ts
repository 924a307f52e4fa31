// kube-proxy's rules that real clusters hit and textbooks skip (issue 10, points 1-3), each checked against
// the real kube-proxy v1.37 (IPVS mode) in the node VM, with the model's expectation and explanation:
// - NodePorts open on every interface address (docker0, a second NIC, the CNI's tunnel address, secondary
//   addresses), never on a Node ExternalIP no interface holds; with nodePortAddresses CIDRs, on the interface
//   addresses inside them, kube-ipvs0's ClusterIPs included;
// - topology hints (trafficDistribution PreferClose / PreferSameNode, set by the real EndpointSlice
//   controller from the Nodes' zone labels) narrow the cluster endpoints; incomplete hints are ignored;
// - EndpointSlice conditions: serving nil is true, ready nil is true.
// The node's addresses come from `ip -o addr` in the VM, read and parsed the way the operator reads them.
import { randomBytes } from 'node:crypto';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { checkLab } from '../../src/check/check.ts';
import { compareIpvs } from '../../src/compare/ipvs.ts';
import type { Finding } from '../../src/compare/types.ts';
import { annotateIpvs } from '../../src/explain/ipvs.ts';
import { expectedIpvs } from '../../src/model/ipvs.ts';
import { outputOf } from '../../src/observe/exec.ts';
import { IP_ADDR, IPVSADM_LN } from '../../src/operator/observe.ts';
import { parseIpAddr } from '../../src/parse/ip-addr.ts';
import type { InterfaceAddressTable, IpvsService, IpvsTable } from '../../src/parse/types.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import { projectKubeProxyConfig } from '../../src/snapshot/project.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { clientsFor, createNamespace, createNode, createPod, waitFor, waitForEndpointSlices } from '../../harness/control-plane/cluster.ts';
import type { PodFixture } from '../../harness/control-plane/cluster.ts';
import { adminKubeConfig } from '../../harness/control-plane/controlplane.ts';
import { readIpvs, registerVmNode, startKubeProxy } from '../../harness/vm/kube-proxy.ts';
import type { KubeProxySettings } from '../../harness/vm/kube-proxy.ts';
import { describeVmWithKubeProxy } from '../harness/require-vm.ts';
import { startNodeVm } from '../../harness/vm/vm.ts';
import type { NodeVm } from '../../harness/vm/vm.ts';

const ZONE_LABEL = 'topology.kubernetes.io/zone';
const NODE = 'netlab-rules-node';
// Nodes without a VM: their pods are remote endpoints, in zone-b and (like the VM) zone-a.
const NODE_B = { name: 'netlab-rules-node-b', internalIP: '10.0.2.26', podCIDRs: ['10.244.21.0/24'], labels: { [ZONE_LABEL]: 'zone-b' } };
const NODE_A2 = { name: 'netlab-rules-node-a2', internalIP: '10.0.2.27', podCIDRs: ['10.244.22.0/24'], labels: { [ZONE_LABEL]: 'zone-a' } };
/** A cloud's NAT address: in the Node's status, on no interface of the node. */
const EXTERNAL_IP = '203.0.113.50';
/** Interfaces a real node has beside its uplink; nothing is ever sent to these addresses. */
const EXTRA_INTERFACES = [
  { what: 'docker0', setup: 'ip link add docker0 type bridge && ip link set docker0 up && ip addr add 172.17.0.1/16 dev docker0', address: '172.17.0.1' },
  { what: 'a second NIC', setup: 'ip link add ens5 type dummy && ip link set ens5 up && ip addr add 192.168.77.5/24 dev ens5', address: '192.168.77.5' },
  { what: 'the CNI tunnel address', setup: 'ip link set tunl0 up && ip addr add 10.244.20.1/32 dev tunl0', address: '10.244.20.1' },
  { what: 'a secondary address', setup: 'ip addr add 10.0.2.31/24 dev eth0', address: '10.0.2.31' },
];
const ns = `rules-${randomBytes(2).toString('hex')}`;
const CONVERGE_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 200_000;

const http = [{ name: 'http', containerPort: 8080 }];
const pod = (name: string, node: { name: string; internalIP: string }, ip: string, app: string): PodFixture => ({
  namespace: ns, name, nodeName: node.name, hostIP: node.internalIP, podIPs: [ip], labels: { app }, ports: http,
});
const VM_NODE = { name: NODE, internalIP: '10.0.2.15' };
const pods: PodFixture[] = [
  pod('web-1', VM_NODE, '10.244.20.11', 'web'),
  pod('web-2', NODE_B, '10.244.21.12', 'web'),
  pod('zonal-a1', VM_NODE, '10.244.20.21', 'zonal'),
  pod('zonal-b1', NODE_B, '10.244.21.22', 'zonal'),
  pod('zonal-a2', NODE_A2, '10.244.22.23', 'zonal'),
];

const httpPort = { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' };
const services: V1Service[] = [
  { metadata: { name: 'web-np' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [httpPort] } },
  { metadata: { name: 'zonal' }, spec: { selector: { app: 'zonal' }, ports: [httpPort], trafficDistribution: 'PreferClose' } },
  { metadata: { name: 'same-node' }, spec: { selector: { app: 'zonal' }, ports: [httpPort], trafficDistribution: 'PreferSameNode' } },
  // selector-less: the test writes their EndpointSlices itself, with the hints and conditions under test
  { metadata: { name: 'hints-partial' }, spec: { ports: [httpPort] } },
  { metadata: { name: 'hints-elsewhere' }, spec: { ports: [httpPort] } },
  { metadata: { name: 'conds-fallback' }, spec: { ports: [httpPort] } },
  { metadata: { name: 'conds-nil-ready' }, spec: { ports: [httpPort] } },
];

type EndpointFixture = { address: string; node: string; conditions?: Record<string, boolean>; zones?: string[] };
/** Hand-written EndpointSlices (another manager than the controller's, so it leaves them alone). */
const handSlices: Record<string, EndpointFixture[]> = {
  // one ready endpoint without a hint: kube-proxy ignores the hints and uses both
  'hints-partial': [
    { address: '10.244.20.31', node: NODE, zones: ['zone-a'] },
    { address: '10.244.21.32', node: NODE_B.name },
  ],
  // hints for zone-b only: none for this node's zone, so both are used
  'hints-elsewhere': [
    { address: '10.244.21.41', node: NODE_B.name, zones: ['zone-b'] },
    { address: '10.244.21.42', node: NODE_B.name, zones: ['zone-b'] },
  ],
  // nothing ready: the terminating endpoint whose serving is nil (true) is the fallback; serving false is not
  'conds-fallback': [
    { address: '10.244.21.51', node: NODE_B.name, conditions: { ready: false, terminating: true } },
    { address: '10.244.21.52', node: NODE_B.name, conditions: { ready: false, serving: false, terminating: true } },
  ],
  // no conditions at all: ready; ready false: not used
  'conds-nil-ready': [
    { address: '10.244.21.61', node: NODE_B.name },
    { address: '10.244.21.62', node: NODE_B.name, conditions: { ready: false } },
  ],
};

function handSlice(service: string, endpoints: EndpointFixture[]): V1EndpointSlice {
  return {
    metadata: { name: `${service}-hand`, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'netlab-test' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.address],
      nodeName: e.node,
      ...(e.conditions ? { conditions: e.conditions } : {}),
      ...(e.zones ? { hints: { forZones: e.zones.map((name) => ({ name })) } } : {}),
    })),
  };
}

function describeFindings(findings: Finding[]): string {
  return findings.map((f) => `  ${f.kind} ${f.key}\n    expected: ${f.expected ?? '-'}\n    observed: ${f.observed ?? '-'}`).join('\n');
}

describeVmWithKubeProxy('kube-proxy\'s NodePort, topology and condition rules: the real kube-proxy and the model agree', (info) => {
  const c = clientsFor(info.kubeconfig);
  const kc = adminKubeConfig(info);
  let vm: NodeVm;
  let settings: KubeProxySettings = { scheduler: 'rr' };
  let kubeProxyConfig = '';
  const clusterIPs = new Map<string, string>();
  let nodePort = 0;

  /** The snapshot, with the settings this VM's kube-proxy runs with (the shared ConfigMap may name another VM's). */
  async function snapshotNow(): Promise<ClusterSnapshot> {
    const snapshot = await fetchSnapshot(kc);
    const configMap = { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': kubeProxyConfig } };
    return { ...snapshot, kubeProxy: projectKubeProxyConfig(configMap, 'kube-proxy config of the VM').view };
  }

  async function interfaces(): Promise<InterfaceAddressTable> {
    return parseIpAddr(await outputOf(vm, NODE, IP_ADDR), `${NODE}: ip -o addr`);
  }

  /** The VM's IPVS table once the model (with the observed addresses) agrees with it and `settled` holds. */
  async function agreed(what: string, settled: (table: IpvsTable) => boolean): Promise<{ table: IpvsTable; snapshot: ClusterSnapshot; addresses: InterfaceAddressTable }> {
    let last: Finding[] = [];
    try {
      return await waitFor(
        `IPVS and the model to agree: ${what}`,
        async () => {
          const [snapshot, table, addresses] = await Promise.all([snapshotNow(), readIpvs(vm), interfaces()]);
          last = compareIpvs(expectedIpvs(snapshot, NODE, { interfaces: addresses }), table).findings;
          return last.length === 0 && settled(table) ? { table, snapshot, addresses } : null;
        },
        CONVERGE_TIMEOUT_MS,
      );
    } catch (err) {
      (err as Error).message += `\nlast findings:\n${describeFindings(last) || '  (none: the step condition did not hold)'}`;
      throw err;
    }
  }

  const onAddress = (table: IpvsTable, port: number) => table.services.filter((s) => s.port === port && s.protocol === 'TCP').map((s) => s.address!).sort();
  const clusterVs = (table: IpvsTable, service: string): IpvsService | undefined => table.services.find((s) => s.address === clusterIPs.get(service) && s.port === 80);
  const realServers = (vs: IpvsService | undefined) => (vs?.realServers ?? []).map((rs) => rs.address).sort();

  beforeAll(async () => {
    vm = await startNodeVm({ nodeName: NODE, apiserverPort: info.apiserverPort, kubeProxy: true });
    for (const i of EXTRA_INTERFACES) await outputOf(vm, NODE, ['sh', '-c', i.setup]);
    await registerVmNode(c, vm, '10.244.20.0/24', { [ZONE_LABEL]: 'zone-a' });
    const node = await c.core.readNode({ name: NODE });
    await c.core.replaceNodeStatus({ name: NODE, body: { ...node, status: { ...node.status, addresses: [...(node.status?.addresses ?? []), { type: 'ExternalIP', address: EXTERNAL_IP }] } } });
    for (const other of [NODE_B, NODE_A2]) await createNode(c, other);
    await createNamespace(c, ns);
    for (const p of pods) await createPod(c, p);
    for (const body of services) {
      const created = await c.core.createNamespacedService({ namespace: ns, body });
      clusterIPs.set(created.metadata!.name!, created.spec!.clusterIP!);
      nodePort ||= created.spec!.ports![0]!.nodePort ?? 0;
    }
    for (const [service, endpoints] of Object.entries(handSlices)) {
      await c.discovery.createNamespacedEndpointSlice({ namespace: ns, body: handSlice(service, endpoints) });
    }
    // the controller's hints for the topology Services, before kube-proxy reads them
    for (const service of ['zonal', 'same-node']) {
      await waitForEndpointSlices(c, ns, service, (slices) => slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.hints).length === 3, 60_000);
    }
    const started = await startKubeProxy(vm, info, settings);
    kubeProxyConfig = started.config;
    process.stderr.write(`netlab harness: kube-proxy in VM ${NODE}: first sync ${(started.firstSyncMs / 1000).toFixed(1)} s after start\n`);
  }, 600_000);

  afterAll(async () => {
    await vm?.stop();
  });

  test('NodePorts open on every interface address (docker0, a second NIC, the tunnel address, a secondary), not on the ExternalIP or a ClusterIP', async () => {
    const { table, snapshot, addresses } = await agreed('NodePorts on the interface addresses', (t) => onAddress(t, nodePort).includes('172.17.0.1'));
    const expected = [VM_NODE.internalIP, ...EXTRA_INTERFACES.map((i) => i.address)].sort();
    expect(onAddress(table, nodePort)).toEqual(expected);
    expect(onAddress(table, nodePort)).not.toContain(EXTERNAL_IP);
    // the explanation names the interface
    const model = expectedIpvs(snapshot, NODE, { interfaces: addresses });
    const lines = annotateIpvs(compareIpvs(model, table), model, snapshot);
    expect(lines.find((l) => l.text.startsWith(`TCP  172.17.0.1:${nodePort}`))!.explanation).toContain(`NodePort on 172.17.0.1, an address of this node on docker0`);
  }, STEP_TIMEOUT_MS);

  test('the whole check (netlab check, the operator) passes the IPVS layer, with and without the node\'s addresses', async () => {
    await agreed('before the whole check', (t) => onAddress(t, nodePort).includes('172.17.0.1'));
    const [snapshot, ipvsadmLn, ipAddr] = await Promise.all([snapshotNow(), outputOf(vm, NODE, IPVSADM_LN), outputOf(vm, NODE, IP_ADDR)]);
    for (const observed of [{ node: NODE, ipvsadmLn, ipAddr }, { node: NODE, ipvsadmLn }]) {
      const result = checkLab(snapshot, { nodes: [observed] }, { layers: ['ipvs'], nodes: [NODE] }).layers.ipvs;
      expect({ status: result.status, findings: describeFindings(result.findings), notes: result.notes }).toEqual({ status: 'pass', findings: '', notes: [] });
    }
  }, STEP_TIMEOUT_MS);

  test('without the node\'s addresses the model expects the InternalIP only, recognises the others by port, and reports nothing', async () => {
    const { table, snapshot } = await agreed('NodePorts before the unobserved check', (t) => onAddress(t, nodePort).includes('172.17.0.1'));
    const model = expectedIpvs(snapshot, NODE);
    const cmp = compareIpvs(model, table);
    expect(describeFindings(cmp.findings)).toBe('');
    const lines = annotateIpvs(cmp, model, snapshot);
    expect(lines.find((l) => l.text.startsWith(`TCP  192.168.77.5:${nodePort}`))!.explanation).toContain('recognised by its port');
    expect(lines.find((l) => l.text.startsWith(`TCP  ${VM_NODE.internalIP}:${nodePort}`))!.explanation).toContain("the node's InternalIP");
  }, STEP_TIMEOUT_MS);

  test('topology hints: PreferClose keeps the same-zone endpoints, PreferSameNode this node\'s; incomplete or foreign hints are ignored', async () => {
    const { table, snapshot, addresses } = await agreed('topology', (t) => realServers(clusterVs(t, 'zonal')).length > 0);
    expect(realServers(clusterVs(table, 'zonal'))).toEqual(['10.244.20.21', '10.244.22.23']);
    expect(realServers(clusterVs(table, 'same-node'))).toEqual(['10.244.20.21']);
    expect(realServers(clusterVs(table, 'hints-partial'))).toEqual(['10.244.20.31', '10.244.21.32']);
    expect(realServers(clusterVs(table, 'hints-elsewhere'))).toEqual(['10.244.21.41', '10.244.21.42']);
    const model = expectedIpvs(snapshot, NODE, { interfaces: addresses });
    const lines = annotateIpvs(compareIpvs(model, table), model, snapshot);
    const explained = (service: string) => lines.find((l) => l.text.startsWith(`TCP  ${clusterIPs.get(service)}:80`))!.explanation;
    expect(explained('zonal')).toContain('Only same-zone endpoints (trafficDistribution: PreferClose)');
    expect(explained('same-node')).toContain('Only endpoints on this node (trafficDistribution: PreferSameNode)');
    expect(explained('hints-partial')).toContain('Topology hints ignored: not every ready endpoint has a zone hint');
    expect(explained('hints-elsewhere')).toContain("no ready endpoint is hinted for this node's zone");
  }, STEP_TIMEOUT_MS);

  test('EndpointSlice conditions: serving nil is true (the terminating fallback), ready nil is true', async () => {
    const { table } = await agreed('conditions', (t) => realServers(clusterVs(t, 'conds-nil-ready')).length > 0);
    expect(realServers(clusterVs(table, 'conds-fallback'))).toEqual(['10.244.21.51']);
    expect(realServers(clusterVs(table, 'conds-nil-ready'))).toEqual(['10.244.21.61']);
  }, STEP_TIMEOUT_MS);

  test('nodePortAddresses [10.0.0.0/8]: the interface addresses inside it, the ClusterIPs on kube-ipvs0 included', async () => {
    settings = { scheduler: 'rr', nodePortAddresses: ['10.0.0.0/8'] };
    const started = await startKubeProxy(vm, info, settings);
    kubeProxyConfig = started.config;
    expect(parse(kubeProxyConfig).nodePortAddresses).toEqual(['10.0.0.0/8']);
    const zonalIP = clusterIPs.get('zonal')!;
    const { table, addresses } = await agreed('NodePorts inside 10.0.0.0/8', (t) => !onAddress(t, nodePort).includes('172.17.0.1') && onAddress(t, nodePort).includes(zonalIP));
    const inside = addresses.addresses.filter((a) => a.family === 'IPv4' && a.address.startsWith('10.') && a.iface !== 'lo').map((a) => a.address);
    expect(onAddress(table, nodePort)).toEqual([...new Set(inside)].sort());
    // kube-ipvs0 holds every ClusterIP: each one carries the NodePort too
    expect(onAddress(table, nodePort)).toEqual(expect.arrayContaining([VM_NODE.internalIP, '10.0.2.31', '10.244.20.1', zonalIP, clusterIPs.get('web-np')!]));
    expect(onAddress(table, nodePort)).not.toContain('192.168.77.5');
  }, STEP_TIMEOUT_MS);
});
