// Gathers one lab's Observation: `route -n`, kube-proxy's rules in the mode checked (`ipvsadm -Ln`, `nft list
// table ip kube-proxy` or `iptables-save`) and `ip -o addr` from each selected node (through a NodeExec: probe
// pods on a real cluster, the exec channel of the test VM in tests), real DNS queries to
// the cluster DNS service and to each CoreDNS endpoint, and the operator's own resolv.conf. Every
// observer is an interface; a failure becomes an Error in the Observation (the layer turns Unknown for
// that node), never an exception.
import type { UserDnsQuery } from '../check/types.ts';
import type { NodeObservation, Observation, ObservedDnsAnswer } from '../observation/types.ts';
import type { Layer } from '../compare/types.ts';
import { expectedDns } from '../model/dns/index.ts';
import type { DnsQuery } from '../model/types.ts';
import type { DnsProber, DnsServer } from '../observe/dns.ts';
import { ExecError, outputOf, type NodeExec } from '../observe/exec.ts';
import type { ClusterSnapshot } from '../snapshot/types.ts';
import type { NodeObservationTime } from './convergence.ts';

export interface DnsObserver {
  prober: DnsProber;
  /** the servers to ask: by default the kube-dns ClusterIPs and every CoreDNS endpoint (dnsServersOf) */
  servers(snapshot: ClusterSnapshot): DnsServer[];
}

export interface ResolvConfObserver {
  /** the namespace of the pod whose resolv.conf is read (the operator's own) */
  namespace: string;
  dnsPolicy: string;
  read(): Promise<string>;
}

export interface Observers {
  nodeExec: NodeExec;
  dns: DnsObserver;
  resolvConf: ResolvConfObserver;
}

export interface ObserveOptions {
  /** per command; default 10 s */
  execTimeoutMs?: number;
  /** nodes probed at the same time; default 8 */
  nodesInFlight?: number;
  onExecError?: (node: string, command: string, error: Error) => void;
  /** the clock for the nodes' observation times; default Date.now */
  now?: () => number;
}

export const ROUTE_N = ['route', '-n'];
export const IPVSADM_LN = ['ipvsadm', '-Ln'];
export const NFT_LIST_TABLE = ['nft', 'list', 'table', 'ip', 'kube-proxy'];
// The probe image's iptables-save is Debian's default, iptables-nft-save: it shows kube-proxy's rules when the
// node's iptables is the nf_tables one, as in the VM (test/fixtures/captures/vm-kube-proxy-iptables.txt). Rules
// written through iptables-legacy are not in it; it then says only "# Warning: iptables-legacy tables present".
export const IPTABLES_SAVE = ['iptables-save'];
export const IP_ADDR = ['ip', '-o', 'addr'];

type NodeField = 'routeN' | 'ipvsadmLn' | 'nftListTable' | 'iptablesSave';

/** The command each node layer runs in the probe, and the observation field its output fills. */
const NODE_PROBES: readonly { layer: Layer; argv: string[]; field: NodeField; onFailure?: (error: Error) => Error }[] = [
  { layer: 'routes', argv: ROUTE_N, field: 'routeN' },
  { layer: 'ipvs', argv: IPVSADM_LN, field: 'ipvsadmLn' },
  {
    layer: 'nftables',
    argv: NFT_LIST_TABLE,
    field: 'nftListTable',
    // nft's own words for an absent table ("Error: No such file or directory", then the command with carets
    // under the table name) read like a missing program.
    onFailure: (error) =>
      error instanceof ExecError && /Error: No such file or directory/.test(error.message)
        ? new ExecError(error.node, error.argv, 'the node has no table ip kube-proxy (nft: "No such file or directory"): kube-proxy does not run in nftables mode there, or has not programmed it yet')
        : error,
  },
  { layer: 'iptables', argv: IPTABLES_SAVE, field: 'iptablesSave' },
];

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The DNS service IPs on port 53 and every CoreDNS endpoint of kube-system/kube-dns, over UDP. */
export function dnsServersOf(snapshot: ClusterSnapshot): DnsServer[] {
  const servers: DnsServer[] = snapshot.dns.serviceIPs.map((host) => ({ host, port: 53, transport: 'udp' }));
  for (const slice of snapshot.endpointSlices) {
    if (slice.namespace !== 'kube-system' || slice.serviceName !== 'kube-dns') continue;
    const port = slice.ports.find((p) => p.protocol === 'UDP' && p.port !== null)?.port ?? 53;
    for (const endpoint of slice.endpoints) {
      if (!endpoint.ready) continue;
      for (const host of endpoint.addresses) servers.push({ host, port, transport: 'udp' });
    }
  }
  return servers;
}

/** The questions the DNS layer asks: the model's, for the lab's namespaces, and the lab's own. */
export function dnsQuestions(snapshot: ClusterSnapshot, namespaces: string[], userQueries: readonly UserDnsQuery[]): DnsQuery[] {
  const questions = new Map<string, DnsQuery>();
  for (const { query } of expectedDns(snapshot, { namespaces })) questions.set(`${query.name} ${query.type}`, query);
  for (const q of userQueries) {
    const query = { name: q.name.replace(/\.$/, '').toLowerCase(), type: q.type };
    questions.set(`${query.name} ${query.type}`, query);
  }
  return [...questions.values()];
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the items' order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** One command's output, or the error (naming node and command) that makes the layer Unknown there. */
async function runProbe(exec: NodeExec, node: string, argv: string[], options: ObserveOptions, explain: (error: Error) => Error = (e) => e): Promise<string | Error> {
  try {
    return await outputOf(exec, node, argv, { timeoutMs: options.execTimeoutMs ?? 10_000 });
  } catch (error) {
    const err = explain(asError(error));
    options.onExecError?.(node, argv.join(' '), err);
    return err;
  }
}

export interface LabObservation {
  observation: Observation;
  /** when each node's probe started, and whether it succeeded: for programming latency */
  nodeTimes: NodeObservationTime[];
}

export interface ObserveRequest {
  snapshot: ClusterSnapshot;
  checks: readonly Layer[];
  nodes: readonly string[];
  dnsQuestions: readonly DnsQuery[];
}

export async function observeLab(observers: Observers, request: ObserveRequest, options: ObserveOptions = {}): Promise<LabObservation> {
  const { snapshot, checks, nodes } = request;
  const probes = NODE_PROBES.filter((p) => checks.includes(p.layer));
  const nodeTimes: NodeObservationTime[] = [];

  const observeNodes = async (): Promise<NodeObservation[]> => {
    if (probes.length === 0) return [];
    return mapBounded(nodes, options.nodesInFlight ?? 8, async (node) => {
      const startedAt = (options.now ?? Date.now)();
      // The commands at once: a node's answer then takes as long as its slowest command, not their sum.
      // `ip -o addr`: the node's own addresses, which NodePorts and the uplink interface depend on.
      const [ipAddr, ...outputs] = await Promise.all([
        runProbe(observers.nodeExec, node, IP_ADDR, options),
        ...probes.map((p) => runProbe(observers.nodeExec, node, p.argv, options, p.onFailure)),
      ]);
      const observed: NodeObservation = { node, ipAddr };
      probes.forEach((p, i) => (observed[p.field] = outputs[i]));
      nodeTimes.push({ node, startedAt, ok: !outputs.some((o) => o instanceof Error) });
      return observed;
    });
  };

  const observeDns = async (): Promise<ObservedDnsAnswer[] | undefined> => {
    if (!checks.includes('dns')) return undefined;
    const servers = observers.dns.servers(snapshot);
    const asks = servers.flatMap((server) => request.dnsQuestions.map((query) => ({ server, query })));
    // The prober paces itself; the bound here only caps open sockets.
    return mapBounded(asks, 16, async ({ server, query }) => {
      const label = `${server.host}:${server.port}/${server.transport}`;
      try {
        return { query, server: label, answer: await observers.dns.prober.query(query, server) };
      } catch (error) {
        return { query, server: label, answer: asError(error) };
      }
    });
  };

  const observeResolvConf = async (): Promise<Observation['resolvConf']> => {
    if (!checks.includes('resolvconf')) return undefined;
    const { namespace, dnsPolicy } = observers.resolvConf;
    try {
      return { namespace, dnsPolicy, text: await observers.resolvConf.read() };
    } catch (error) {
      return { namespace, dnsPolicy, text: asError(error) };
    }
  };

  const [nodeObservations, dns, resolvConf] = await Promise.all([observeNodes(), observeDns(), observeResolvConf()]);
  const observation: Observation = { nodes: nodeObservations };
  if (dns !== undefined) observation.dns = dns;
  if (resolvConf !== undefined) observation.resolvConf = resolvConf;
  return { observation, nodeTimes };
}
