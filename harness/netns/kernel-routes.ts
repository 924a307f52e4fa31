// The kernel's own routing decision (`ip -j route get`) beside the routing hops netlab computes.
// Used against network namespaces on this machine (test/integration/trace-kernel.test.ts) and meant for the
// real nodes too: give checkTraceAgainstKernel the NodeExec of the node VMs (harness/vm) or the probe
// pods (src/observe/probe-exec.ts) and it asks each node on the path for the same destinations.
import type { NodeExec } from '../../src/observe/exec.ts';
import type { ExpectedRoute, NodeRoutes } from '../../src/model/types.ts';
import { maskToPrefix } from '../../src/net/ip.ts';
import type { RouteHop, Trace, TunnelHop } from '../../src/trace/types.ts';

export interface KernelRoute {
  /** unicast: forwarded out of `dev`; local: one of the node's own addresses; blackhole: dropped; unreachable: no route */
  kind: 'unicast' | 'local' | 'blackhole' | 'unreachable';
  dev: string | null;
  gateway: string | null;
  /** the source address the kernel would pick (prefsrc) */
  src: string | null;
}

/**
 * `ip -j route get ADDRESS` on `node`. The kernel refuses a lookup that ends in a blackhole with EINVAL
 * (fib_props[RTN_BLACKHOLE].error) and one without a route with ENETUNREACH: both are answers, not failures.
 */
export async function kernelRouteGet(exec: NodeExec, node: string, address: string): Promise<KernelRoute> {
  const result = await exec.exec(node, ['ip', '-j', 'route', 'get', address]);
  if (result.exitCode !== 0) {
    if (/Invalid argument/.test(result.stderr)) return { kind: 'blackhole', dev: null, gateway: null, src: null };
    if (/Network is unreachable/.test(result.stderr)) return { kind: 'unreachable', dev: null, gateway: null, src: null };
    throw new Error(`ip route get ${address} on ${node}: exit ${result.exitCode}: ${result.stderr.trim()}`);
  }
  const [route] = JSON.parse(result.stdout) as { type?: string; dev?: string; gateway?: string; prefsrc?: string }[];
  if (!route) throw new Error(`ip route get ${address} on ${node} printed no route: ${result.stdout}`);
  return { kind: route.type === 'local' ? 'local' : 'unicast', dev: route.dev ?? null, gateway: route.gateway ?? null, src: route.prefsrc ?? null };
}

/** What netlab says the kernel does for a route hop, in the kernel's terms. */
export function hopAsKernelRoute(hop: RouteHop): Omit<KernelRoute, 'src'> {
  const o = hop.outcome;
  switch (o.kind) {
    case 'local':
      return { kind: 'unicast', dev: o.iface, gateway: null };
    case 'tunnel':
      return { kind: 'unicast', dev: o.iface, gateway: o.gateway };
    case 'host':
      return { kind: 'unicast', dev: o.iface, gateway: o.gateway === '0.0.0.0' ? null : o.gateway };
    case 'this-node':
      return { kind: 'local', dev: null, gateway: null };
    case 'blackhole':
      return { kind: 'blackhole', dev: null, gateway: null };
    case 'no-route':
      return { kind: 'unreachable', dev: null, gateway: null };
  }
}

/** One routing hop checked against the kernel: null when they agree, else the difference in words. */
export function disagreement(hop: RouteHop, kernel: KernelRoute): string | null {
  const netlab = hopAsKernelRoute(hop);
  const same = netlab.kind === kernel.kind && (netlab.kind !== 'unicast' || (netlab.dev === kernel.dev && netlab.gateway === kernel.gateway));
  if (same) return null;
  const words = (r: Omit<KernelRoute, 'src'>) => `${r.kind}${r.dev ? ` dev ${r.dev}` : ''}${r.gateway ? ` via ${r.gateway}` : ''}`;
  return `${hop.node}: ${hop.address}: netlab says ${words(netlab)}, the kernel says ${words(kernel)}`;
}

export interface KernelCheck {
  /** route hops and tunnel hops compared */
  compared: number;
  /** every disagreement, in words */
  problems: string[];
}

/**
 * Asks the kernel of each node on the path about every routing hop of `trace`: the device and gateway of
 * each route hop; for each tunnel hop the outer header (the kernel's route to the outer destination must pick
 * the outer source netlab names); and from a node's host network, the source address the reply returns to
 * (the kernel's preferred source of the first route). Only nodes in `nodes` are asked.
 */
export async function checkTraceAgainstKernel(trace: Trace, exec: NodeExec, nodes: ReadonlySet<string>): Promise<KernelCheck> {
  const check: KernelCheck = { compared: 0, problems: [] };
  const source = trace.hops[0]?.kind === 'source' ? trace.hops[0] : null;
  const first = trace.hops.find((h): h is RouteHop => h.kind === 'route' && h.role === 'source');
  const reply = trace.hops.find((h): h is RouteHop => h.kind === 'route' && h.role === 'reply');
  if (source && source.pod === null && first && reply && nodes.has(first.node) && first.outcome.kind !== 'this-node') {
    check.compared++;
    const kernel = await kernelRouteGet(exec, first.node, first.address);
    if (kernel.src !== reply.address) check.problems.push(`${first.node}: to ${first.address}: netlab sends from ${reply.address}, the kernel from ${kernel.src ?? 'none'}`);
  }
  for (const hop of trace.hops) {
    if (hop.kind === 'route' && nodes.has(hop.node)) {
      check.compared++;
      const problem = disagreement(hop, await kernelRouteGet(exec, hop.node, hop.address));
      if (problem) check.problems.push(problem);
    }
    if (hop.kind === 'tunnel' && nodes.has(hop.fromNode)) {
      check.compared++;
      const problem = await outerHeaderDisagreement(hop, exec);
      if (problem) check.problems.push(problem);
    }
  }
  return check;
}

async function outerHeaderDisagreement(hop: TunnelHop, exec: NodeExec): Promise<string | null> {
  const kernel = await kernelRouteGet(exec, hop.fromNode, hop.outer.dst);
  if (kernel.kind === 'unicast' && kernel.src === hop.outer.src) return null;
  return `${hop.fromNode}: outer header to ${hop.outer.dst}: netlab says source ${hop.outer.src}, the kernel picks ${kernel.src ?? 'none'} (${kernel.kind}${kernel.dev ? ` dev ${kernel.dev}` : ''})`;
}

/** The uplink the stand-in node gets: its name, its address with prefix, and the default gateway. */
export interface Uplink {
  iface: string;
  address: string;
  gateway: string;
}

/** The devices and routes that make a node's kernel table equal to `expected` (plus its uplink), as iproute2 commands. */
export function programmingCommands(expected: NodeRoutes, uplink: Uplink, tunnelAddresses: { ipip?: string; vxlan?: string }, tunnelDevice: 'ipip' | 'veth'): string[][] {
  const commands: string[][] = [];
  const devices = new Set<string>();
  const device = (name: string) => {
    if (devices.has(name)) return;
    devices.add(name);
    const flannelVni = /^flannel\.(\d+)$/.exec(name)?.[1];
    if (name === 'vxlan.calico' || flannelVni) {
      // Calico's VXLAN device (VNI 4096, UDP port 4789) or flannel's flannel.<VNI> (the kernel's port 8472), over the uplink
      const [vni, port] = flannelVni ? [flannelVni, '8472'] : ['4096', '4789'];
      commands.push(['ip', 'link', 'add', name, 'type', 'vxlan', 'id', vni, 'dstport', port, 'dev', uplink.iface]);
      if (tunnelAddresses.vxlan) commands.push(['ip', 'addr', 'add', `${tunnelAddresses.vxlan}/32`, 'dev', name]);
    } else if (name === 'cni0') {
      // flannel's bridge: the route to the node's own subnet is programmed below, as the model has it
      commands.push(['ip', 'link', 'add', name, 'type', 'bridge']);
    } else if (name === 'tunl0' && tunnelDevice === 'ipip') {
      commands.push(['ip', 'link', 'add', name, 'type', 'ipip']);
      if (tunnelAddresses.ipip) commands.push(['ip', 'addr', 'add', `${tunnelAddresses.ipip}/32`, 'dev', name]);
    } else {
      // a veth pair whose other end stays in the namespace: the route lookup needs only a device that is up
      commands.push(['ip', 'link', 'add', name, 'type', 'veth', 'peer', 'name', `p${devices.size}`]);
      commands.push(['ip', 'link', 'set', `p${devices.size}`, 'up']);
      if (name === 'tunl0' && tunnelAddresses.ipip) commands.push(['ip', 'addr', 'add', `${tunnelAddresses.ipip}/32`, 'dev', name]);
    }
    commands.push(['ip', 'link', 'set', name, 'up']);
  };
  device(uplink.iface);
  commands.push(['ip', 'addr', 'add', uplink.address, 'dev', uplink.iface]);
  commands.push(['ip', 'route', 'add', 'default', 'via', uplink.gateway, 'dev', uplink.iface]);
  for (const route of expected.routes) commands.push(...routeCommands(route, device));
  // devices first: a route needs its device
  return [...commands.filter((c) => c[1] !== 'route'), ...commands.filter((c) => c[1] === 'route')];
}

function routeCommands(route: ExpectedRoute, device: (name: string) => void): string[][] {
  const cidr = `${route.destination}/${maskToPrefix(route.genmask)}`;
  const metric = route.metric ? ['metric', String(route.metric)] : [];
  if (route.iface === '*') return [['ip', 'route', 'add', 'blackhole', cidr, ...metric]];
  device(route.iface);
  // Calico's routes through a tunnel or to a peer name a gateway the device has no subnet for: onlink
  if (route.gateway !== '0.0.0.0') return [['ip', 'route', 'add', cidr, 'via', route.gateway, 'dev', route.iface, 'onlink', ...metric]];
  return [['ip', 'route', 'add', cidr, 'dev', route.iface, 'scope', 'link', ...metric]];
}
