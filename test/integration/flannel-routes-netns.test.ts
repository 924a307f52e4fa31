// Flannel's routes on a real Linux kernel: in network namespaces this test creates on the machine running it,
// it builds flannel.1 (VXLAN) and the cni0 bridge the way flanneld and the CNI bridge plugin do, programs the
// routes netlab's Flannel model expects with iproute2 (RouteReplace ... onlink for VXLAN, plain gateway routes
// for host-gw, the bridge's connected route from its gateway address), reads real `route -n` and checks it
// with netlab. Flannel itself does not run here: this proves the text format, flags, gateways and interfaces
// of those routes as the kernel and net-tools print them, and that the model agrees with them; not flannel.
// No packet is sent: every address lives inside the namespaces, which are deleted afterwards.
import { execFileSync } from 'node:child_process';
import { checkLab } from '../../src/check/check.ts';
import type { CheckReport } from '../../src/check/types.ts';
import type { FlannelNodeView } from '../../src/snapshot/types.ts';
import { skipOrFail } from '../harness/require-real.ts';
import { makeNode, makePod, makeSnapshot } from '../model/builders.ts';

const NODES = [
  { name: 'node-1', ip: '10.130.29.80', subnet: '10.244.0.0/24', mac: '5a:1c:9e:3f:20:01' },
  { name: 'node-2', ip: '10.130.29.81', subnet: '10.244.1.0/24', mac: '5a:1c:9e:3f:20:02' },
  { name: 'node-3', ip: '10.130.29.82', subnet: '10.244.2.0/24', mac: '5a:1c:9e:3f:20:03' },
];
const [local, ...remotes] = NODES as [(typeof NODES)[0], ...typeof NODES];

function snapshotFor(backend: 'vxlan' | 'host-gw', podIPs: string[]) {
  const flannel = (n: (typeof NODES)[0]): FlannelNodeView => ({
    kubeSubnetManager: true, backendType: backend, publicIP: n.ip, vni: backend === 'vxlan' ? 1 : null, vtepMAC: backend === 'vxlan' ? n.mac : null,
  });
  return makeSnapshot({
    nodes: NODES.map((n) => makeNode(n.name, n.ip, { calico: {}, podCIDRs: [n.subnet], flannel: flannel(n) })),
    pods: podIPs.map((ip, i) => makePod('default', `web-${i}`, 'node-1', [ip])),
  });
}

/** `ip netns` needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); without it the suite skips, or fails under NETLAB_REQUIRE_REAL=1. */
function netnsAvailable(): string | null {
  try {
    const name = `netlab-probe-${process.pid}`;
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return `cannot create a network namespace (needs root and iproute2): ${(error as Error).message.split('\n')[0]}`;
  }
}

const unavailable = netnsAvailable();
const describeNetns = unavailable === null ? describe : (skipOrFail(unavailable), describe.skip);

describeNetns('Flannel routes in a real kernel (programmed like flannel; not flannel itself)', () => {
  const created: string[] = [];
  const ip = (ns: string, ...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: 'pipe' });
  const routeN = (ns: string) => execFileSync('ip', ['netns', 'exec', ns, 'route', '-n'], { encoding: 'utf8' });
  const check = (backend: 'vxlan' | 'host-gw', ns: string, podIPs: string[]): CheckReport =>
    checkLab(snapshotFor(backend, podIPs), { nodes: [{ node: 'node-1', routeN: routeN(ns) }] }, { layers: ['routes'], nodes: ['node-1'] });
  const findings = (report: CheckReport) => report.layers.routes.findings.map((f) => `${f.kind} ${f.key}`);

  function namespace(suffix: string): string {
    const ns = `netlab-flannel-${process.pid}-${suffix}`;
    execFileSync('ip', ['netns', 'add', ns]);
    created.push(ns);
    // The node's uplink: one end of a veth pair (both ends stay here), holding the node's address.
    ip(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer');
    ip(ns, 'addr', 'add', `${local.ip}/24`, 'dev', 'eth0');
    for (const link of ['lo', 'eth0', 'eth0-peer']) ip(ns, 'link', 'set', link, 'up');
    return ns;
  }

  /** The first pod: the bridge plugin creates cni0 with the subnet's first address, plugs in the pod's veth. */
  function firstPod(ns: string): string {
    const podNs = `${ns}-pod`;
    execFileSync('ip', ['netns', 'add', podNs]);
    created.push(podNs);
    ip(ns, 'link', 'add', 'cni0', 'type', 'bridge');
    ip(ns, 'addr', 'add', '10.244.0.1/24', 'dev', 'cni0');
    ip(ns, 'link', 'set', 'cni0', 'up');
    ip(ns, 'link', 'add', 'veth3f2a9c1e', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', podNs);
    ip(ns, 'link', 'set', 'veth3f2a9c1e', 'master', 'cni0', 'up');
    ip(podNs, 'addr', 'add', '10.244.0.2/24', 'dev', 'eth0');
    ip(podNs, 'link', 'set', 'eth0', 'up');
    return '10.244.0.2';
  }

  afterAll(() => {
    for (const ns of created.reverse()) execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
  });

  test('VXLAN: each remote /24 via its .0 on flannel.1, onlink; the own /24 on cni0 from the first pod on', () => {
    const ns = namespace('vxlan');
    // vxlan.go/device.go: flannel.<VNI>, local = the public-ip, on eth0, no learning, the node's subnet address as a /32.
    ip(ns, 'link', 'add', 'flannel.1', 'type', 'vxlan', 'id', '1', 'local', local.ip, 'dev', 'eth0', 'nolearning');
    ip(ns, 'link', 'set', 'flannel.1', 'address', local.mac, 'mtu', '1450');
    ip(ns, 'addr', 'add', '10.244.0.0/32', 'dev', 'flannel.1');
    ip(ns, 'link', 'set', 'flannel.1', 'up');
    for (const remote of remotes) {
      // vxlan_network.go handleSubnetEvents: ARP entry, FDB entry, then RouteReplace onlink.
      const gateway = remote.subnet.split('/')[0]!;
      ip(ns, 'neigh', 'replace', gateway, 'lladdr', remote.mac, 'dev', 'flannel.1', 'nud', 'permanent');
      execFileSync('bridge', ['-n', ns, 'fdb', 'replace', remote.mac, 'dev', 'flannel.1', 'dst', remote.ip, 'self', 'permanent']);
      ip(ns, 'route', 'replace', remote.subnet, 'via', gateway, 'dev', 'flannel.1', 'onlink');
    }
    const beforePods = check('vxlan', ns, []);
    expect(findings(beforePods)).toEqual([]);
    expect(routeN(ns)).not.toMatch(/cni0/);

    const podIP = firstPod(ns);
    const table = routeN(ns);
    expect(table).toMatch(/^10\.244\.1\.0 +10\.244\.1\.0 +255\.255\.255\.0 +UG +0 +0 +0 flannel\.1$/m);
    expect(table).toMatch(/^10\.244\.0\.0 +0\.0\.0\.0 +255\.255\.255\.0 +U +0 +0 +0 cni0$/m);
    const report = check('vxlan', ns, [podIP]);
    expect(findings(report)).toEqual([]);
    expect(report.layers.routes.counts).toMatchObject({ expected: 3, observed: 3 });
    expect(report.cni?.cni).toBe('flannel');

    ip(ns, 'route', 'del', '10.244.2.0/24');
    expect(findings(check('vxlan', ns, [podIP]))).toEqual(['missing 10.244.2.0/24']);
  });

  test('host-gw: each remote /24 via that node\'s public-ip on the uplink, named from the connected route', () => {
    const ns = namespace('hostgw');
    // hostgw.go: Dst = the lease's subnet, Gw = its public-ip, LinkIndex = the external interface.
    for (const remote of remotes) ip(ns, 'route', 'add', remote.subnet, 'via', remote.ip, 'dev', 'eth0');
    const podIP = firstPod(ns);
    const table = routeN(ns);
    expect(table).toMatch(/^10\.244\.2\.0 +10\.130\.29\.82 +255\.255\.255\.0 +UG +0 +0 +0 eth0$/m);
    const report = check('host-gw', ns, [podIP]);
    expect(findings(report)).toEqual([]);
    expect(report.layers.routes.counts).toMatchObject({ expected: 3, observed: 3 });

    ip(ns, 'route', 'del', '10.244.1.0/24');
    ip(ns, 'route', 'add', '10.244.1.0/24', 'via', '10.130.29.99', 'dev', 'eth0');
    const moved = check('host-gw', ns, [podIP]).layers.routes.findings;
    expect(moved.map((f) => `${f.kind} ${f.key} ${f.fields.join(',')}`)).toEqual(['mismatch 10.244.1.0/24 gateway']);
  });
});
