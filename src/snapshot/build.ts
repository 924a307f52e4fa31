// Turns a bag of raw cluster objects into a ClusterSnapshot. Both the snapshot-folder loader
// (load.ts) and the operator (fed by informers) call buildSnapshot, so the model sees the
// same views whichever way the objects arrived.
import { describeObject, Field, SnapshotError } from './fields.ts';
import {
  projectBlockAffinity,
  projectClusterInformation,
  projectCoreDNSConfig,
  projectEndpointSlice,
  projectIPAMBlock,
  projectIPPool,
  projectKubeProxyConfig,
  projectNode,
  projectPod,
  projectService,
  projectServiceCIDR,
  projectWorkloadEndpoint,
  serviceNameLabel,
  type CoreDNSSettings,
  type WithNotes,
} from './project.ts';
import type {
  CalicoVersionView,
  ClusterSnapshot,
  EndpointSliceView,
  IPAMBlockView,
  IPPoolView,
  KubeProxyView,
  NodeView,
  PodView,
  ServiceView,
  WorkloadEndpointView,
} from './types.ts';

/**
 * One raw object and where it came from ("pods.yaml", "informer pods"). The object must carry
 * apiVersion and kind; items of a typed list from the API (PodList) lack them, so the caller fills
 * them in from the list.
 */
export interface SnapshotInput {
  source: string;
  object: unknown;
}

/** The kube-proxy settings assumed when there is no kube-system/kube-proxy ConfigMap. */
export const defaultKubeProxy: KubeProxyView = {
  mode: 'ipvs', scheduler: 'rr', nodePortAddresses: [], clusterCIDRs: [], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true,
};
/** The CoreDNS settings assumed when there is no kube-system/coredns ConfigMap: those of kubeadm's Corefile. */
export const defaultCoreDNS: CoreDNSSettings = { clusterDomain: 'cluster.local', podsMode: 'insecure', ttl: 30 };

/** The projected views, before defaults and sorting: what the loader collects and what the operator caches. */
export interface SnapshotViews {
  nodes: NodeView[];
  pods: PodView[];
  services: ServiceView[];
  endpointSlices: EndpointSliceView[];
  namespaceNames: string[];
  ipPools: IPPoolView[];
  ipamBlocks: IPAMBlockView[];
  blockAffinities: IPAMBlockView[];
  workloadEndpoints: WorkloadEndpointView[];
  calicoVersion: CalicoVersionView | null;
  serviceCIDRs: string[];
  kubeProxy: WithNotes<KubeProxyView> | null;
  coreDNS: WithNotes<CoreDNSSettings> | null;
  notes: string[];
}

type Collected = SnapshotViews;

type Handler = (object: unknown, source: string, into: Collected) => void;

function endpointSliceHandler(object: unknown, source: string, into: Collected): void {
  const slice = projectEndpointSlice(object, source);
  if (slice !== null) into.endpointSlices.push(slice);
  else into.notes.push(`${source}: ${describeObject(object)} has no ${serviceNameLabel} label; kube-proxy and CoreDNS ignore it, and so does netlab`);
}

function collectBlockAffinity(object: unknown, source: string, into: Collected): void {
  const block = projectBlockAffinity(object, source);
  if (block !== null) into.blockAffinities.push(block);
}

/** Calico keeps its version in the ClusterInformation named default (clientv3 globalClusterInfoName); others are noted and left. */
function clusterInformationHandler(object: unknown, source: string, into: Collected): void {
  const name = Field.of(object, source).at('metadata.name').string();
  if (name === 'default') into.calicoVersion = projectClusterInformation(object, source);
  else into.notes.push(`${source}: ClusterInformation ${name} ignored: Calico reads its version from ClusterInformation default only`);
}

/** What netlab reads, by "apiVersion kind". Every other object is counted and ignored. */
const handlers: Record<string, Handler> = {
  'v1 Node': (object, source, into) => into.nodes.push(projectNode(object, source)),
  'v1 Pod': (object, source, into) => into.pods.push(projectPod(object, source)),
  'v1 Service': (object, source, into) => into.services.push(projectService(object, source)),
  'discovery.k8s.io/v1 EndpointSlice': endpointSliceHandler,
  'v1 Namespace': (object, source, into) => into.namespaceNames.push(Field.of(object, source).at('metadata.name').string()),
  'crd.projectcalico.org/v1 IPPool': (object, source, into) => into.ipPools.push(projectIPPool(object, source)),
  'projectcalico.org/v3 IPPool': (object, source, into) => into.ipPools.push(projectIPPool(object, source)),
  'crd.projectcalico.org/v1 IPAMBlock': (object, source, into) => into.ipamBlocks.push(projectIPAMBlock(object, source)),
  'crd.projectcalico.org/v1 BlockAffinity': collectBlockAffinity,
  'crd.projectcalico.org/v1 ClusterInformation': clusterInformationHandler,
  'projectcalico.org/v3 ClusterInformation': clusterInformationHandler,
  'projectcalico.org/v3 BlockAffinity': collectBlockAffinity,
  'networking.k8s.io/v1 ServiceCIDR': (object, source, into) => into.serviceCIDRs.push(...projectServiceCIDR(object, source)),
  'projectcalico.org/v3 WorkloadEndpoint': (object, source, into) =>
    into.workloadEndpoints.push(projectWorkloadEndpoint(object, source)),
};

/** netlab reads two ConfigMaps, by namespace/name; the others are ignored like any unused kind. */
const configMapHandlers: Record<string, Handler> = {
  'kube-system/kube-proxy': (object, source, into) => {
    into.kubeProxy = projectKubeProxyConfig(object, source);
  },
  'kube-system/coredns': (object, source, into) => {
    into.coreDNS = projectCoreDNSConfig(object, source);
  },
};

function handlerFor(apiVersion: string, kind: string, root: Field): Handler | undefined {
  if (apiVersion === 'v1' && kind === 'ConfigMap') {
    return configMapHandlers[`${root.at('metadata.namespace').value}/${root.at('metadata.name').value}`];
  }
  return handlers[`${apiVersion} ${kind}`];
}

const handledKinds = new Set(Object.keys(handlers).map((key) => key.split(' ')[1]));

const byName = <T extends { name: string }>(a: T, b: T): number => compareText(a.name, b.name);
const byNamespaceAndName = <T extends { namespace: string; name: string }>(a: T, b: T): number =>
  compareText(a.namespace, b.namespace) || compareText(a.name, b.name);

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Blocks from IPAMBlocks, completed by confirmed BlockAffinities for blocks not listed (or listed without owner). */
function mergeBlocks(ipamBlocks: IPAMBlockView[], affinities: IPAMBlockView[]): IPAMBlockView[] {
  const byCidr = new Map<string, IPAMBlockView>();
  for (const block of [...ipamBlocks, ...affinities]) {
    const known = byCidr.get(block.cidr);
    if (known === undefined || known.node === null) byCidr.set(block.cidr, block);
  }
  return [...byCidr.values()].sort((a, b) => compareText(a.cidr, b.cidr));
}

/**
 * Builds the snapshot. Objects are read in the order given; the views come out sorted by name so
 * the model's output does not depend on file or informer order. Throws SnapshotError on the first
 * malformed object, naming its source, the object and the field.
 */
export function buildSnapshot(inputs: readonly SnapshotInput[]): ClusterSnapshot {
  const into: Collected = {
    nodes: [],
    pods: [],
    services: [],
    endpointSlices: [],
    namespaceNames: [],
    ipPools: [],
    ipamBlocks: [],
    blockAffinities: [],
    workloadEndpoints: [],
    calicoVersion: null,
    serviceCIDRs: [],
    kubeProxy: null,
    coreDNS: null,
    notes: [],
  };
  const seen = new Map<string, string>();
  const ignored = new Map<string, number>();
  const namespacesInUse = new Set<string>();

  for (const { source, object } of inputs) {
    const root = Field.of(object, source);
    root.record();
    const apiVersion = root.child('apiVersion').string();
    const kind = root.child('kind').string();
    const namespace = root.at('metadata.namespace').value;
    if (typeof namespace === 'string' && namespace !== '') namespacesInUse.add(namespace);

    const handler = handlerFor(apiVersion, kind, root);
    if (handler === undefined) {
      // Name the apiVersion when netlab reads this kind in another version, so a v1beta1 dump is not dropped unseen.
      const label = handledKinds.has(kind) ? `${kind} (${apiVersion})` : kind;
      ignored.set(label, (ignored.get(label) ?? 0) + 1);
      continue;
    }
    handler(object, source, into);
    // The same object twice (two files, or the v1 and v3 form of one IPPool) is a mistake worth stopping for.
    const identity = describeObject(object);
    const firstSource = seen.get(identity);
    if (firstSource !== undefined) throw new SnapshotError(`${source}: ${identity}: appears twice (also in ${firstSource})`);
    seen.set(identity, source);
  }

  for (const [label, count] of [...ignored].sort(([a], [b]) => compareText(a, b))) {
    into.notes.push(`ignored ${count} ${label} object${count === 1 ? '' : 's'} (netlab does not use them)`);
  }
  return assembleSnapshot(into, { namespacesInUse: [...namespacesInUse], calico: 'read' });
}

/** A ConfigMap's settings with their notes, or (a copy of) the defaults with a note saying what was assumed. */
function configOrDefault<T>(found: WithNotes<T> | null, fallback: T, notes: string[], assumption: string): T {
  if (found === null) {
    notes.push(assumption);
    return structuredClone(fallback);
  }
  notes.push(...found.notes);
  return found.view;
}

/**
 * Completes projected views into a snapshot: the defaults for absent ConfigMaps (each noted in plain
 * words), the DNS service address, IPAM blocks merged with their affinities, every list sorted by name.
 * `calico: 'absent'` says the Calico CRDs do not exist (the caller notes that), so no pool is expected.
 */
export function assembleSnapshot(into: SnapshotViews, context: { namespacesInUse?: string[]; calico: 'read' | 'absent' }): ClusterSnapshot {
  const notes = [...into.notes];
  let namespaces = [...new Set(into.namespaceNames)];
  if (namespaces.length === 0) {
    namespaces = [...(context.namespacesInUse ?? [])];
    notes.push('no Namespace objects given: namespaces are the ones the other objects are in');
  }

  const kubeProxy = configOrDefault(into.kubeProxy, defaultKubeProxy, notes,
    'no ConfigMap kube-system/kube-proxy given: assumed kube-proxy in ipvs mode, scheduler rr, NodePorts on every node address');
  const coreDNS = configOrDefault(into.coreDNS, defaultCoreDNS, notes,
    'no ConfigMap kube-system/coredns given: assumed kubeadm\'s Corefile (cluster.local, pods insecure, ttl 30)');
  const kubeDNS = into.services.find((service) => service.namespace === 'kube-system' && service.name === 'kube-dns');
  if (kubeDNS === undefined) notes.push('no Service kube-system/kube-dns given: pods get no cluster nameserver');

  const ipamBlocks = mergeBlocks(into.ipamBlocks, into.blockAffinities);
  if (context.calico === 'read') {
    if (into.ipPools.length === 0) notes.push('no Calico IPPool objects given');
    if (ipamBlocks.length === 0) notes.push('no Calico IPAMBlock or BlockAffinity objects given: which node owns which block is unknown');
  }

  return {
    nodes: into.nodes.sort(byName),
    pods: into.pods.sort(byNamespaceAndName),
    services: into.services.sort(byNamespaceAndName),
    endpointSlices: into.endpointSlices.sort(byNamespaceAndName),
    namespaces: namespaces.sort(compareText),
    ipPools: into.ipPools.sort(byName),
    ipamBlocks,
    workloadEndpoints: into.workloadEndpoints.sort(
      (a, b) => compareText(a.namespace, b.namespace) || compareText(a.pod, b.pod) || compareText(a.interfaceName, b.interfaceName),
    ),
    calicoVersion: into.calicoVersion,
    kubeProxy,
    serviceCIDRs: [...new Set(into.serviceCIDRs)].sort(compareText),
    dns: { ...coreDNS, serviceIPs: kubeDNS?.clusterIPs ?? [] },
    notes,
  };
}
