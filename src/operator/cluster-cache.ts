// The operator's picture of the cluster: one ViewInformer per kind the model reads, holding slim views,
// and the NetworkLabs themselves. It turns the cached views into a ClusterSnapshot for a check and
// reports every real change (a view that differs) to the operator, which re-checks the labs.
import type { KubeConfig } from '@kubernetes/client-node';
import { assembleSnapshot } from '../snapshot/build.ts';
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
  type WithNotes,
} from '../snapshot/project.ts';
import type { ClusterSnapshot, EndpointSliceView, IPAMBlockView } from '../snapshot/types.ts';
import { ViewInformer, type ChangeVerb, type InformerOptions, type InformerSpec, type Slim } from './informers.ts';
import { isStatus, type KubeClient } from '../kube/client.ts';
import { GROUP, PLURAL, VERSION } from './lab.ts';
import type { ClusterChange } from './relevance.ts';
import type { LabelledService } from './reconciler.ts';
import type { NetworkLabStatus } from './status.ts';

/** A NetworkLab as cached: what defines the lab (a change re-checks it) and its last written status. */
export interface LabView {
  object: { metadata: Record<string, unknown>; spec: unknown };
  generation: number;
  status: NetworkLabStatus | undefined;
}

function projectLab(raw: unknown): LabView {
  const { metadata = {}, spec, status } = raw as { metadata?: Record<string, unknown>; spec?: unknown; status?: NetworkLabStatus };
  const { managedFields: _dropped, ...slimMetadata } = metadata;
  return { object: { metadata: slimMetadata, spec }, generation: Number(metadata.generation ?? 0), status };
}

function labelsOf(raw: unknown): Record<string, string> {
  return { ...((raw as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {}) };
}

const name = (raw: unknown): string => String((raw as { metadata?: { name?: string } }).metadata?.name ?? '');

const CALICO_GROUP_VERSION = '/apis/crd.projectcalico.org/v1';

/** The informers, by what they feed. Calico's are created only when its CRDs are served. */
function coreSpecs() {
  return {
    nodes: { resource: 'nodes', path: '/api/v1/nodes', project: projectNode } satisfies InformerSpec<unknown>,
    pods: { resource: 'pods', path: '/api/v1/pods', project: projectPod } satisfies InformerSpec<unknown>,
    // Labels ride along so that a lab's spec.services.selector can be applied.
    services: {
      resource: 'services',
      path: '/api/v1/services',
      project: (raw: unknown, source: string): LabelledService => ({ ...projectService(raw, source), labels: labelsOf(raw) }),
    } satisfies InformerSpec<unknown>,
    endpointSlices: {
      resource: 'endpointslices',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      project: projectEndpointSlice,
    } satisfies InformerSpec<unknown>,
    namespaces: { resource: 'namespaces', path: '/api/v1/namespaces', project: name } satisfies InformerSpec<unknown>,
    // One object each, watched by name: the operator's RBAC allows exactly these two ConfigMaps.
    kubeProxy: {
      resource: 'configmap kube-system/kube-proxy',
      path: '/api/v1/namespaces/kube-system/configmaps',
      fieldSelector: 'metadata.name=kube-proxy',
      project: projectKubeProxyConfig,
    } satisfies InformerSpec<unknown>,
    coreDNS: {
      resource: 'configmap kube-system/coredns',
      path: '/api/v1/namespaces/kube-system/configmaps',
      fieldSelector: 'metadata.name=coredns',
      project: projectCoreDNSConfig,
    } satisfies InformerSpec<unknown>,
  };
}

function calicoSpecs() {
  return {
    ipPools: { resource: 'calico ippools', path: `${CALICO_GROUP_VERSION}/ippools`, project: projectIPPool } satisfies InformerSpec<unknown>,
    ipamBlocks: { resource: 'calico ipamblocks', path: `${CALICO_GROUP_VERSION}/ipamblocks`, project: projectIPAMBlock } satisfies InformerSpec<unknown>,
    blockAffinities: {
      resource: 'calico blockaffinities',
      path: `${CALICO_GROUP_VERSION}/blockaffinities`,
      project: projectBlockAffinity,
    } satisfies InformerSpec<unknown>,
    // One object, watched by name (RBAC allows only it): the Calico version, which sets the pod routes' metric.
    clusterInformation: {
      resource: 'calico clusterinformation default',
      path: `${CALICO_GROUP_VERSION}/clusterinformations`,
      fieldSelector: 'metadata.name=default',
      project: projectClusterInformation,
    } satisfies InformerSpec<unknown>,
  };
}

export interface ClusterCacheOptions extends InformerOptions {
  onClusterChange(change: ClusterChange): void;
  onLabChange(verb: ChangeVerb, namespace: string, name: string): void;
  /** how often to look again for Calico's CRDs while they are absent; default 60 s */
  calicoRecheckMs?: number;
  /** only the labs of this namespace; default every namespace */
  labNamespace?: string;
}

const KIND_OF: Record<string, ClusterChange['kind']> = {
  nodes: 'Node',
  pods: 'Pod',
  services: 'Service',
  endpointslices: 'EndpointSlice',
  namespaces: 'Namespace',
  'calico ippools': 'IPPool',
  'calico ipamblocks': 'IPAMBlock',
  'calico blockaffinities': 'BlockAffinity',
  'calico clusterinformation default': 'ClusterInformation',
};

export class ClusterCache {
  readonly #kc: KubeConfig;
  readonly #client: KubeClient;
  readonly #options: ClusterCacheOptions;
  readonly #core: { [K in keyof ReturnType<typeof coreSpecs>]: ViewInformer<ReturnType<ReturnType<typeof coreSpecs>[K]['project']>> };
  #calico: { [K in keyof ReturnType<typeof calicoSpecs>]: ViewInformer<ReturnType<ReturnType<typeof calicoSpecs>[K]['project']>> } | null = null;
  readonly labs: ViewInformer<LabView>;
  #calicoTimer: ReturnType<typeof setTimeout> | undefined;
  #calicoChecked = false;
  #stopped = false;

  constructor(kc: KubeConfig, client: KubeClient, options: ClusterCacheOptions) {
    this.#kc = kc;
    this.#client = client;
    this.#options = options;
    const specs = coreSpecs();
    this.#core = {
      nodes: this.#informer(specs.nodes),
      pods: this.#informer(specs.pods),
      services: this.#informer(specs.services),
      endpointSlices: this.#informer(specs.endpointSlices),
      namespaces: this.#informer(specs.namespaces),
      kubeProxy: this.#informer(specs.kubeProxy),
      coreDNS: this.#informer(specs.coreDNS),
    };
    this.labs = new ViewInformer<LabView>(
      kc,
      client,
      {
        resource: 'networklabs',
        path: options.labNamespace ? `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(options.labNamespace)}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`,
        project: projectLab,
        // The operator's own status writes must not trigger another check of the lab.
        identity: (lab) => lab.object,
      },
      options,
    );
    this.labs.on((verb, lab) => options.onLabChange(verb, lab.metadata.namespace ?? '', lab.metadata.name));
  }

  #informer<V>(spec: InformerSpec<V>): ViewInformer<V> {
    const informer = new ViewInformer(this.#kc, this.#client, spec, this.#options);
    informer.on((verb, object) => {
      if (!this.#allSynced()) return; // the initial list is the starting point, not a change
      const kind = KIND_OF[spec.resource] ?? 'ConfigMap';
      const { name: objectName, namespace = null } = object.metadata;
      const id = namespace ? `${namespace}/${objectName}` : objectName;
      const what = `${kind} ${id} ${verb === 'add' ? 'added' : verb === 'delete' ? 'deleted' : 'updated'}`;
      this.#options.onClusterChange({ at: Date.now(), what, kind, namespace, name: objectName });
    });
    return informer;
  }

  #informers(): ViewInformer<unknown>[] {
    return [...Object.values(this.#core), ...Object.values(this.#calico ?? {})] as ViewInformer<unknown>[];
  }

  #allSynced(): boolean {
    return this.#informers().every((i) => i.synced);
  }

  async start(): Promise<void> {
    await this.#discoverCalico();
    await Promise.all([...this.#informers().map((i) => i.start()), this.labs.start()]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#calicoTimer);
    await Promise.all([...this.#informers().map((i) => i.stop()), this.labs.stop()]);
  }

  /** Calico's CRDs are optional: without them the routes model reads the nodes' podCIDRs and annotations (Flannel, or Calico without its IPAM). */
  async #discoverCalico(): Promise<void> {
    let present = false;
    try {
      await this.#client.request('GET', CALICO_GROUP_VERSION);
      present = true;
    } catch (err) {
      if (!isStatus(err, 404)) this.#options.log.warn('could not ask whether Calico CRDs exist; will ask again', { error: err });
    }
    this.#calicoChecked = true;
    if (present && this.#calico === null && !this.#stopped) {
      const specs = calicoSpecs();
      this.#calico = {
        ipPools: this.#informer(specs.ipPools),
        ipamBlocks: this.#informer(specs.ipamBlocks),
        blockAffinities: this.#informer(specs.blockAffinities),
        clusterInformation: this.#informer(specs.clusterInformation),
      };
      if (this.#allSyncedCore()) await Promise.all(Object.values(this.#calico).map((i) => (i as ViewInformer<unknown>).start()));
      this.#options.log.info('Calico CRDs found: watching IP pools, IPAM blocks and the ClusterInformation');
    }
    if (!present && !this.#stopped) {
      this.#calicoTimer = setTimeout(() => void this.#discoverCalico(), this.#options.calicoRecheckMs ?? 60_000);
    }
  }

  #allSyncedCore(): boolean {
    return Object.values(this.#core).every((i) => i.synced);
  }

  /** null when every cache is filled, else what is missing (for /readyz and for deferring checks). */
  notReady(): string | null {
    if (!this.#calicoChecked) return 'looking for Calico CRDs';
    const waiting = [...this.#informers(), this.labs as ViewInformer<unknown>].filter((i) => !i.synced);
    if (waiting.length === 0) return null;
    return `waiting for the first list of ${waiting.map((i) => `${i.spec.resource}${i.lastError ? ` (${i.lastError})` : ''}`).join(', ')}`;
  }

  /** The informers currently retrying after an error. */
  failing(): string[] {
    return [...this.#informers(), this.labs as ViewInformer<unknown>].filter((i) => i.lastError !== null).map((i) => `${i.spec.resource}: ${i.lastError}`);
  }

  /** The ready, running pod on `node` that carries `label` in `namespace` (the netlab-probe pod). */
  podOnNode(namespace: string, node: string, label: { key: string; value: string }): { namespace: string; name: string } | null {
    const pod = this.#core.pods
      .list(namespace)
      .map((p) => p.view)
      .find((p) => p !== null && p.namespace === namespace && p.nodeName === node && p.labels[label.key] === label.value && p.ready && !p.terminating);
    return pod ? { namespace: pod.namespace, name: pod.name } : null;
  }

  lab(namespace: string, labName: string): Slim<LabView> | undefined {
    return this.labs.get(labName, namespace);
  }

  /** The snapshot the model reads, from the cached views. */
  snapshot(): ClusterSnapshot {
    const notes: string[] = [];
    const views = <V>(informer: ViewInformer<V>): V[] =>
      informer.list().flatMap((o) => {
        if (o.error !== null) notes.push(`ignored ${informer.spec.resource} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}: ${o.error}`);
        return o.view === null ? [] : [o.view];
      });
    const present = <V>(list: (V | null)[]): V[] => list.filter((v): v is V => v !== null);
    if (this.#calico === null) notes.push('Calico CRDs (crd.projectcalico.org) are not installed: the routes layer reads the nodes\' podCIDRs and CNI annotations');
    return assembleSnapshot(
      {
        nodes: views(this.#core.nodes),
        pods: views(this.#core.pods),
        services: views(this.#core.services),
        endpointSlices: present(views(this.#core.endpointSlices)),
        namespaceNames: views(this.#core.namespaces),
        ipPools: this.#calico ? views(this.#calico.ipPools) : [],
        ipamBlocks: this.#calico ? views(this.#calico.ipamBlocks) : [],
        blockAffinities: this.#calico ? present(views(this.#calico.blockAffinities)) : [],
        workloadEndpoints: [],
        calicoVersion: this.#calico ? (views(this.#calico.clusterInformation)[0] ?? null) : null,
        // not watched yet: the nftables model then leaves out the "drop unallocated ClusterIPs" rule
        serviceCIDRs: [],
        kubeProxy: views(this.#core.kubeProxy)[0] ?? null,
        coreDNS: views(this.#core.coreDNS)[0] ?? null,
        notes,
      },
      { calico: this.#calico === null ? 'absent' : 'read' },
    );
  }
}

