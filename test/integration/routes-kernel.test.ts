// The `route -n` observer and parser against a real Linux kernel (Debian's, in the node VM). The test
// programs a Calico-like layout itself with iproute2 (no Calico runs here), reads `route -n` through the
// VM's exec channel and parses it with src/parse/route.ts. So this proves the observation path and the
// parser on real kernel output, and says nothing about the route model (src/model/routes/).
import { calicoVethName } from '../../src/model/calico.ts';
import { outputOf } from '../../src/observe/exec.ts';
import { maskToPrefix, prefixToMask } from '../../src/net/ip.ts';
import { parseRouteN } from '../../src/parse/route.ts';
import type { RouteEntry } from '../../src/parse/types.ts';
import { describeVm } from '../harness/require-vm.ts';
import { startNodeVm } from '../../harness/vm/vm.ts';
import type { NodeVm } from '../../harness/vm/vm.ts';

/** One route as the test programs it; `via` routes are `onlink`, as Calico's tunnel routes are. */
interface ProgrammedRoute {
  what: string;
  cidr: string;
  dev: string | null; // null: blackhole
  via?: string;
  metric?: number;
}

const POD_VETHS = [
  { namespace: 'default', pod: 'nginx-7c5ddbdf54-abcde', ip: '10.244.0.137' },
  { namespace: 'default', pod: 'nginx-7c5ddbdf54-fghij', ip: '10.244.0.138' },
  // Calico v3.32+ gives workload routes metric 1024
  { namespace: 'kube-system', pod: 'coredns-5d78c9869d-x7k2p', ip: '10.244.0.140', metric: 1024 },
].map((p) => ({ ...p, iface: calicoVethName(p.namespace, p.pod) }));

const LAYOUT: ProgrammedRoute[] = [
  ...POD_VETHS.map((p) => ({ what: `pod ${p.namespace}/${p.pod}`, cidr: `${p.ip}/32`, dev: p.iface, metric: p.metric })),
  { what: 'local IPAM block', cidr: '10.244.0.0/24', dev: null },
  // peers are addresses in the VM's own /24: nothing is ever sent to them
  { what: 'IPIP block of node 2', cidr: '10.244.1.0/24', dev: 'tunl0', via: '10.0.2.16' },
  { what: 'IPIP block of node 3', cidr: '10.244.2.0/24', dev: 'tunl0', via: '10.0.2.17' },
  { what: 'VXLAN block of node 4', cidr: '10.244.3.0/26', dev: 'vxlan.calico', via: '10.244.3.0' },
];

function ipRouteArgs(route: ProgrammedRoute): string[] {
  const metric = route.metric === undefined ? [] : ['metric', String(route.metric)];
  if (route.dev === null) return ['ip', 'route', 'add', 'blackhole', route.cidr, ...metric];
  if (route.via) return ['ip', 'route', 'add', route.cidr, 'via', route.via, 'dev', route.dev, 'onlink', ...metric];
  return ['ip', 'route', 'add', route.cidr, 'dev', route.dev, 'scope', 'link', ...metric];
}

/** The columns net-tools prints for a route: U always, G with a gateway, H for a /32; blackholes show iface "*". */
function routeNColumns(route: ProgrammedRoute): Pick<RouteEntry, 'destination' | 'gateway' | 'genmask' | 'flags' | 'metric' | 'iface'> {
  const [destination, prefix] = route.cidr.split('/') as [string, string];
  return {
    destination,
    gateway: route.via ?? '0.0.0.0',
    genmask: prefixToMask(Number(prefix)),
    flags: `U${route.via ? 'G' : ''}${prefix === '32' ? 'H' : ''}`,
    metric: route.metric ?? 0,
    iface: route.dev ?? '*',
  };
}

/** One main-table route of `ip -j route`, the kernel's own listing through another tool. */
interface IpJsonRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
  metric?: number;
}

describeVm('route -n observer and parser on real kernel output (Calico-like routes programmed by the test; not the route model)', () => {
  let vm: NodeVm;
  const sh = (argv: string[]) => outputOf(vm, vm.nodeName, argv);

  beforeAll(async () => {
    vm = await startNodeVm({ nodeName: 'netlab-routes-node' });
    // Calico's devices: a veth per pod (the pod end stays in this namespace; no packets flow),
    // tunl0 from the ipip module, vxlan.calico with Calico's VNI and port.
    for (const [i, p] of POD_VETHS.entries()) {
      await sh(['ip', 'link', 'add', p.iface, 'type', 'veth', 'peer', 'name', `pod${i}`]);
      await sh(['ip', 'link', 'set', p.iface, 'up']);
      await sh(['ip', 'link', 'set', `pod${i}`, 'up']);
    }
    await sh(['ip', 'link', 'set', 'tunl0', 'up']);
    await sh(['ip', 'addr', 'add', '10.244.0.1/32', 'dev', 'tunl0']);
    await sh(['ip', 'link', 'add', 'vxlan.calico', 'type', 'vxlan', 'id', '4096', 'dstport', '4789', 'dev', 'eth0']);
    await sh(['ip', 'link', 'set', 'vxlan.calico', 'up']);
    await sh(['ip', 'addr', 'add', '10.244.0.2/32', 'dev', 'vxlan.calico']);
    for (const route of LAYOUT) await sh(ipRouteArgs(route));
  }, 600_000);

  afterAll(async () => {
    await vm?.stop();
  });

  test('every programmed Calico-like route is read back from real `route -n` with its flags, gateway, metric and iface', async () => {
    const table = parseRouteN(await sh(['route', '-n']), `${vm.nodeName}: route -n`);
    for (const route of LAYOUT) {
      const expected = routeNColumns(route);
      const rows = table.routes.filter((r) => r.destination === expected.destination && r.genmask === expected.genmask);
      expect({ route: route.what, rows: rows.map(({ destination, gateway, genmask, flags, metric, iface }) => ({ destination, gateway, genmask, flags, metric, iface })) })
        .toEqual({ route: route.what, rows: [expected] });
    }
  });

  test('the parser keeps every row of the kernel main table, as `ip -j route` lists it (nothing dropped or altered)', async () => {
    const table = parseRouteN(await sh(['route', '-n']), `${vm.nodeName}: route -n`);
    const ipRoutes = JSON.parse(await sh(['ip', '-j', 'route', 'show', 'table', 'main'])) as IpJsonRoute[];
    const fromIp = ipRoutes.map((r) => {
      const [address, prefix = '32'] = r.dst === 'default' ? ['0.0.0.0', '0'] : r.dst.split('/');
      return `${address}/${prefix} via ${r.gateway ?? '0.0.0.0'} dev ${r.type === 'blackhole' ? '*' : r.dev} metric ${r.metric ?? 0}`;
    });
    const fromRouteN = table.routes.map((r) => `${r.destination}/${maskToPrefix(r.genmask)} via ${r.gateway} dev ${r.iface} metric ${r.metric}`);
    expect(fromRouteN.sort()).toEqual(fromIp.sort());
    // the VM's own link route is there too, so the comparison covers rows the test did not program
    expect(fromRouteN).toContain('10.0.2.0/24 via 0.0.0.0 dev eth0 metric 0');
  });

  test('a deleted route disappears from the next observation', async () => {
    const gone = LAYOUT.find((r) => r.dev === 'tunl0')!;
    await sh(['ip', 'route', 'del', gone.cidr]);
    const table = parseRouteN(await sh(['route', '-n']), `${vm.nodeName}: route -n`);
    const { destination, genmask } = routeNColumns(gone);
    expect(table.routes.filter((r) => r.destination === destination && r.genmask === genmask)).toEqual([]);
    expect(table.routes.length).toBeGreaterThan(0);
  });
});

