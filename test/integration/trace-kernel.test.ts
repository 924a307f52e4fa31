// The routing hops of `netlab trace` against the kernel's own answer. Each node of the seed cluster becomes
// a network namespace on this machine, programmed with the table netlab's model expects for that node
// (plus its uplink); the namespaces' real `route -n` is the observation; then for many traces every route
// hop (device, gateway, or blackhole/local/unreachable) must equal `ip route get` in that node's namespace,
// and every tunnel hop's outer source must be the address the kernel picks for the outer destination.
// No packet is sent: only routing decisions are asked for. The same check runs on the real nodes through
// another NodeExec (see harness/netns/kernel-routes.ts).
import { execFileSync } from 'node:child_process';
import type { Observation } from '../../src/observation/types.ts';
import { expectedRoutes } from '../../src/model/routes/index.ts';
import { loadSnapshotDir } from '../../src/snapshot/load.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { traceFlow } from '../../src/trace/trace.ts';
import type { RouteHop, Trace, TraceRequest } from '../../src/trace/types.ts';
import { checkTraceAgainstKernel, programmingCommands } from '../../harness/netns/kernel-routes.ts';
import { createNamespaces, type Namespaces, netnsUnavailable } from '../../harness/netns/netns.ts';
import { skipOrFail } from '../harness/require-real.ts';

const SEED = new URL('../../examples/seed/snapshot', import.meta.url).pathname;
const UPLINK = 'ens32'; // the seed nodes' uplink, from the article's `route -n`
const GATEWAY = '10.130.29.1';

/** The seed with its IP pool switched to VXLAN Always; each node's VTEP is its old tunl0 address. */
function asVxlan(seed: ClusterSnapshot): ClusterSnapshot {
  return {
    ...seed,
    ipPools: seed.ipPools.map((p) => ({ ...p, ipipMode: 'Never', vxlanMode: 'Always' })),
    nodes: seed.nodes.map((n) => ({ ...n, calico: { ipv4Address: n.calico.ipv4Address, vxlanTunnelAddr: n.calico.ipipTunnelAddr } })),
  };
}

/** The seed routed by flannel's VXLAN backend instead of Calico: each node annotated as flanneld does. */
function asFlannel(seed: ClusterSnapshot): ClusterSnapshot {
  return {
    ...seed,
    ipPools: [], ipamBlocks: [], workloadEndpoints: [],
    nodes: seed.nodes.map((n, i) => ({
      ...n,
      calico: {},
      flannel: { kubeSubnetManager: true, backendType: 'vxlan', publicIP: n.calico.ipv4Address!.split('/')[0]!, vni: 1, vtepMAC: `5a:1c:9e:3f:20:0${i}` },
    })),
  };
}

/** Whether this kernel can make an IP-in-IP device (CONFIG_NET_IPIP); a veth named tunl0 stands in otherwise. */
function ipipAvailable(ns: string): boolean {
  try {
    execFileSync('ip', ['-n', ns, 'link', 'show', 'tunl0'], { stdio: 'pipe' });
    return true; // the ipip module made its fallback device in the new namespace
  } catch {
    try {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'tunl0', 'type', 'ipip'], { stdio: 'pipe' });
      execFileSync('ip', ['-n', ns, 'link', 'del', 'tunl0'], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  }
}

async function programCluster(snapshot: ClusterSnapshot, tag: string): Promise<{ ns: Namespaces; ipip: boolean }> {
  const nodes = snapshot.nodes.map((n) => n.name);
  const ns = createNamespaces(nodes, tag);
  const ipip = ipipAvailable(ns.namespaceOf(nodes[0]!));
  for (const node of snapshot.nodes) {
    const expected = expectedRoutes(snapshot, node.name);
    const uplink = { iface: UPLINK, address: node.calico.ipv4Address ?? `${node.flannel!.publicIP}/24`, gateway: GATEWAY };
    // flannel.1 holds the .0 of the node's subnet, as flanneld sets it
    const tunnels = { ipip: node.calico.ipipTunnelAddr, vxlan: node.calico.vxlanTunnelAddr ?? (node.flannel ? node.podCIDRs[0]!.split('/')[0] : undefined) };
    for (const argv of programmingCommands(expected, uplink, tunnels, ipip ? 'ipip' : 'veth')) await ns.run(node.name, argv);
  }
  return { ns, ipip };
}

async function observe(snapshot: ClusterSnapshot, ns: Namespaces): Promise<Observation> {
  return { nodes: await Promise.all(snapshot.nodes.map(async (n) => ({ node: n.name, routeN: await ns.run(n.name, ['route', '-n']) }))) };
}

/** From every pod and node, to every pod, an unused address of each block, each node, the outside world, and kube-dns. */
function requests(snapshot: ClusterSnapshot): TraceRequest[] {
  const sources = [...snapshot.pods.filter((p) => !p.hostNetwork).map((p) => `${p.namespace}/${p.name}`), ...snapshot.nodes.map((n) => n.name)];
  const targets = [
    ...snapshot.pods.filter((p) => !p.hostNetwork).map((p) => `${p.podIPs[0]}:8080`),
    '10.244.0.9:80', '10.244.1.9:80', '10.244.2.9:80', // no pod: the owner's blackhole
    ...snapshot.nodes.map((n) => `${n.addresses.find((a) => a.type === 'InternalIP')!.address}:10250`),
    '192.0.2.1:443', // outside the cluster: the default route
    '10.96.0.10:53', // kube-dns: through the Service layer to a CoreDNS pod
  ];
  return sources.flatMap((from) => targets.map((to) => ({ from, to })));
}

const unavailable = netnsUnavailable();
if (unavailable) skipOrFail(`no network namespaces: ${unavailable}`);
const describeNetns = unavailable ? describe.skip : describe;

// per variant: how it changes the seed, the tunnel route the model expects from node-1 to node-2's pods, and
// whether addresses no pod has end in a blackhole (Calico) or on the node's bridge (flannel)
describeNetns.each([
  ['Calico IP-in-IP (the seed as it is)', 'ipip', (s: ClusterSnapshot) => s, 'dev tunl0 via 10.130.29.81', true],
  ['Calico VXLAN (the seed with its pool switched to VXLAN)', 'vxlan', asVxlan, 'dev vxlan.calico via 10.244.1.0', true],
  ['Flannel VXLAN (the seed routed by flannel)', 'flannel', asFlannel, 'dev flannel.1 via 10.244.1.0', false],
] as const)('routing hops of netlab trace against `ip route get` in network namespaces: %s', (_name, tag, variant, tunnelVia, blackholes) => {
  let snapshot: ClusterSnapshot;
  let ns: Namespaces;
  let observation: Observation;
  let allNodes: Set<string>;

  beforeAll(async () => {
    snapshot = variant(await loadSnapshotDir(SEED));
    const programmed = await programCluster(snapshot, `tr${tag}`);
    ns = programmed.ns;
    if (!programmed.ipip && tag === 'ipip') {
      process.stderr.write('trace-kernel: this kernel has no IP-in-IP (CONFIG_NET_IPIP unset): tunl0 is a veth stand-in; the route lookup does not depend on the device type\n');
    }
    observation = await observe(snapshot, ns);
    allNodes = new Set(snapshot.nodes.map((n) => n.name));
  });

  afterAll(() => ns?.remove());

  test('the programmed namespaces show the model\'s table: every route hop is observed and as expected', () => {
    const hops = requests(snapshot).flatMap((r) => traceFlow(snapshot, observation, r).hops).filter((h): h is RouteHop => h.kind === 'route');
    expect(hops.length).toBeGreaterThan(100);
    // every hop was read from the namespace's real `route -n` ...
    expect(hops.filter((h) => h.outcome.kind !== 'this-node' && h.observed === undefined)).toEqual([]);
    // ... and only the blackholes (addresses no pod has, Calico) break the path
    const broken = hops.filter((h) => h.verdict === 'broken');
    expect(broken.length > 0).toBe(blackholes);
    expect(broken.every((h) => h.outcome.kind === 'blackhole' && /\.9$/.test(h.address))).toBe(true);
  });

  test('every route hop and tunnel hop of every trace agrees with the kernel', async () => {
    let compared = 0;
    const problems: string[] = [];
    const kinds = new Set<string>();
    for (const request of requests(snapshot)) {
      const trace: Trace = traceFlow(snapshot, observation, request);
      for (const hop of trace.hops) if (hop.kind === 'route') kinds.add(hop.outcome.kind);
      const check = await checkTraceAgainstKernel(trace, ns, allNodes);
      compared += check.compared;
      problems.push(...check.problems.map((p) => `${request.from} -> ${request.to}: ${p}`));
    }
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(150);
    // the traces cover every kind of routing decision
    expect([...kinds].sort()).toEqual(blackholes ? ['blackhole', 'host', 'local', 'this-node', 'tunnel'] : ['host', 'local', 'this-node', 'tunnel']);
  });

  test('a deleted tunnel route: netlab\'s BROKEN hop names the route the kernel really takes', async () => {
    const peerBlock = '10.244.1.0/24';
    await ns.run('node-1', ['ip', 'route', 'del', peerBlock]);
    try {
      const broken = await observe(snapshot, ns);
      const trace = traceFlow(snapshot, broken, { from: 'default/rpc-75d9b7d7c9-2zzrx', to: '10.244.1.141:8080' });
      const route = trace.hops.find((h) => h.id === 'route-source') as RouteHop;
      expect(route).toMatchObject({ verdict: 'broken', observed: { destination: '0.0.0.0/0', gateway: GATEWAY, iface: UPLINK } });
      expect((await checkTraceAgainstKernel(trace, ns, allNodes)).problems).toEqual([]);
      // the model alone still expects the tunnel: the kernel check catches exactly that hop
      const modelOnly = traceFlow(snapshot, null, { from: 'default/rpc-75d9b7d7c9-2zzrx', to: '10.244.1.141:8080' });
      expect((await checkTraceAgainstKernel(modelOnly, ns, allNodes)).problems).toEqual([
        `node-1: 10.244.1.141: netlab says unicast ${tunnelVia}, the kernel says unicast dev ${UPLINK} via ${GATEWAY}`,
      ]);
    } finally {
      const restore = expectedRoutes(snapshot, 'node-1').routes.find((r) => r.destination === '10.244.1.0')!;
      await ns.run('node-1', ['ip', 'route', 'add', peerBlock, 'via', restore.gateway, 'dev', restore.iface, 'onlink']);
    }
  });
});
