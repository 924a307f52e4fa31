// What the web page shows, as data the server sends: the cluster as a picture, each lab's result (checkLab's
// report, as the text report prints it), each node's annotated tables, and traces (traceFlow). The browser
// draws these and never recomputes the model.
import type { CheckReport, LayerResult, ReportSection } from '../check/types.ts';
import type { Finding } from '../compare/types.ts';
import { nodeRoutingAddress } from '../model/calico.ts';
import { ipFamily } from '../net/ip.ts';
import type { Observation } from '../observation/types.ts';
import type { ClusterSnapshot } from '../snapshot/types.ts';

/** A NetworkLab status condition, as the operator wrote it. */
export interface LabCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** One lab's result: the report checkLab made for it, and (from the operator) the conditions it wrote. */
export interface LabReport {
  name: string;
  report: CheckReport;
  conditions?: LabCondition[];
}

/** Everything one page shows; the server builds it once and serves it until the next one. */
export interface PageInput {
  /** where the data comes from, in words: "offline: examples/seed", "live: context kind-netlab", "operator" */
  origin: string;
  snapshot: ClusterSnapshot;
  /** null: nothing was observed (traces show the model's answers) */
  observation: Observation | null;
  labs: LabReport[];
  /** when it was computed (ISO time) */
  computedAt: string;
}

export interface PicturePod {
  namespace: string;
  name: string;
  ip: string | null;
  ready: boolean;
  phase: string;
}

export interface PictureNode {
  name: string;
  address: string | null;
  tunnel: { kind: 'ipip' | 'vxlan'; address: string } | null;
  /** the pod address blocks the node owns (Calico IPAM blocks, else its podCIDRs) */
  blocks: string[];
  pods: PicturePod[];
  hostNetworkPods: number;
  /** whether the node's tables were observed (else the page shows the model's expectation) */
  observed: boolean;
}

export interface PictureService {
  namespace: string;
  name: string;
  type: string;
  vips: string[];
  ports: string[];
}

export interface LabSummary {
  name: string;
  conditions: LabCondition[];
  layers: Omit<LayerResult, 'findings'>[];
  findings: Finding[];
}

export interface PageState {
  origin: string;
  computedAt: string;
  cluster: { nodes: PictureNode[]; services: PictureService[] };
  labs: LabSummary[];
  /** trace sources the page offers: pods as namespace/name, then nodes */
  sources: string[];
  /** a first trace worth drawing: a pod to the cluster DNS Service */
  suggestedTrace: { from: string; to: string } | null;
}

export interface NodeTables {
  /** null: the cluster-wide tables (DNS answers, resolv.conf) */
  node: string | null;
  sections: (ReportSection & { lab: string })[];
}

function picture(snapshot: ClusterSnapshot, observation: Observation | null): PageState['cluster'] {
  const podsByNode = new Map<string, PicturePod[]>();
  const hostNetwork = new Map<string, number>();
  for (const pod of snapshot.pods) {
    if (!pod.nodeName) continue;
    if (pod.hostNetwork) {
      hostNetwork.set(pod.nodeName, (hostNetwork.get(pod.nodeName) ?? 0) + 1);
      continue;
    }
    const list = podsByNode.get(pod.nodeName) ?? [];
    list.push({ namespace: pod.namespace, name: pod.name, ip: pod.podIPs.find((ip) => ipFamily(ip) === 'IPv4') ?? pod.podIPs[0] ?? null, ready: pod.ready, phase: pod.phase });
    podsByNode.set(pod.nodeName, list);
  }
  const blocksByNode = new Map<string, string[]>();
  const affine = snapshot.ipamBlocks.filter((b) => b.node !== null);
  for (const block of affine) blocksByNode.set(block.node!, [...(blocksByNode.get(block.node!) ?? []), block.cidr]);
  const observed = new Set((observation?.nodes ?? []).filter((n) => typeof n.routeN === 'string' || typeof n.ipvsadmLn === 'string').map((n) => n.node));
  const nodes = snapshot.nodes.map((node): PictureNode => {
    const { ipipTunnelAddr, vxlanTunnelAddr } = node.calico;
    return {
      name: node.name,
      address: nodeRoutingAddress(node),
      tunnel: vxlanTunnelAddr ? { kind: 'vxlan', address: vxlanTunnelAddr } : ipipTunnelAddr ? { kind: 'ipip', address: ipipTunnelAddr } : null,
      blocks: affine.length ? (blocksByNode.get(node.name) ?? []) : node.podCIDRs,
      pods: podsByNode.get(node.name) ?? [],
      hostNetworkPods: hostNetwork.get(node.name) ?? 0,
      observed: observed.has(node.name),
    };
  });
  const services = snapshot.services.map((s) => ({
    namespace: s.namespace, name: s.name, type: s.headless ? 'Headless' : s.type,
    vips: [...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIngressIPs],
    ports: s.ports.map((p) => `${p.port}/${p.protocol}${p.name ? ` (${p.name})` : ''}`),
  }));
  return { nodes, services };
}

function suggestedTrace(snapshot: ClusterSnapshot): PageState['suggestedTrace'] {
  const pod = snapshot.pods.find((p) => !p.hostNetwork && p.nodeName && p.phase === 'Running' && p.namespace !== 'kube-system')
    ?? snapshot.pods.find((p) => !p.hostNetwork && p.nodeName && p.phase === 'Running');
  if (!pod) return null;
  const dns = snapshot.services.find((s) => s.clusterIPs.some((ip) => snapshot.dns.serviceIPs.includes(ip)));
  const target = dns ?? snapshot.services.find((s) => s.clusterIPs.length > 0);
  return target ? { from: `${pod.namespace}/${pod.name}`, to: `${target.name}.${target.namespace}` } : null;
}

export function pageState(input: PageInput): PageState {
  const { snapshot } = input;
  return {
    origin: input.origin,
    computedAt: input.computedAt,
    cluster: picture(snapshot, input.observation),
    labs: input.labs.map(({ name, report, conditions }) => ({
      name,
      conditions: (conditions ?? []).map(({ type, status, reason, message }) => ({ type, status, reason, message })),
      // only the layers the lab checks: kube-proxy runs in one mode, the other Service layers are skipped
      layers: Object.values(report.layers).filter((l) => l.status !== 'skipped').map(({ findings: _findings, ...rest }) => rest),
      findings: Object.values(report.layers).flatMap((l) => l.findings),
    })),
    sources: [
      ...snapshot.pods.filter((p) => p.nodeName && p.phase === 'Running').map((p) => `${p.namespace}/${p.name}`),
      ...snapshot.nodes.map((n) => n.name),
    ],
    suggestedTrace: suggestedTrace(snapshot),
  };
}

/** The annotated tables of one node (or, for null, the cluster-wide ones) from every lab that has them. */
export function nodeTables(input: PageInput, node: string | null): NodeTables {
  const sections = input.labs.flatMap(({ name, report }) => report.sections.filter((s) => s.node === node).map((s) => ({ ...s, lab: name })));
  // Two labs checking the same node show the same lines: keep the first copy of each table.
  const seen = new Set<string>();
  return { node, sections: sections.filter((s) => !seen.has(`${s.layer} ${s.node}`) && seen.add(`${s.layer} ${s.node}`)) };
}
