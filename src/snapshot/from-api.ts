// Takes a snapshot from a live apiserver, through netlab's one API client (src/kube/client.ts): the lists
// are read as raw JSON, page by page, not through client-node's typed models, which turn timestamps into
// Dates and drop fields the client does not know, while the projections expect exactly what the API serves,
// the same as a `kubectl get -o yaml` file.
import type { KubeConfig } from '@kubernetes/client-node';
import { isStatus, kubeClient, type KubeClient, type ListPage, listInPages } from '../kube/client.ts';
import { buildSnapshot } from './build.ts';
import type { SnapshotInput } from './build.ts';
import { isRecord } from './fields.ts';
import type { ClusterSnapshot } from './types.ts';

export interface FetchSnapshotOptions {
  /** items per list request (the API pages with `continue`); default 500, as kubectl */
  pageSize?: number;
  /** per request; default 30 s */
  timeoutMs?: number;
}

interface ListSpec {
  path: string;
  /** set when the API group may be absent: a 404 then means "not installed", noted, not an error */
  optionalGroup?: string;
}

const lists: ListSpec[] = [
  { path: '/api/v1/nodes' },
  { path: '/api/v1/pods' },
  { path: '/api/v1/services' },
  { path: '/apis/discovery.k8s.io/v1/endpointslices' },
  { path: '/api/v1/namespaces' },
  { path: '/apis/networking.k8s.io/v1/servicecidrs', optionalGroup: 'networking.k8s.io/v1' },
  { path: '/apis/crd.projectcalico.org/v1/ippools', optionalGroup: 'crd.projectcalico.org/v1' },
  { path: '/apis/crd.projectcalico.org/v1/ipamblocks', optionalGroup: 'crd.projectcalico.org/v1' },
  { path: '/apis/crd.projectcalico.org/v1/blockaffinities', optionalGroup: 'crd.projectcalico.org/v1' },
];

/** Objects read by name: kube-proxy's and CoreDNS's ConfigMaps, and Calico's ClusterInformation (which Calico runs).
 *  An absent one (404, also when Calico's CRDs are not installed) leaves buildSnapshot's defaults and notes in place. */
const namedObjects = [
  '/api/v1/namespaces/kube-system/configmaps/kube-proxy',
  '/api/v1/namespaces/kube-system/configmaps/coredns',
  '/apis/crd.projectcalico.org/v1/clusterinformations/default',
];

/** Lists what netlab reads from the cluster `kc` points at and builds the snapshot from it. */
export async function fetchSnapshot(kc: KubeConfig, opts: FetchSnapshotOptions = {}): Promise<ClusterSnapshot> {
  const api = kubeClient(kc, opts.timeoutMs ?? 30_000);
  const pageSize = opts.pageSize ?? 500;
  const listed = await Promise.all(lists.map((spec) => listAll(api, spec, pageSize)));
  const read = await Promise.all(namedObjects.map((path) => readOptional(api, path)));

  const inputs: SnapshotInput[] = [];
  const notes = new Set<string>();
  for (const result of listed) {
    if ('absent' in result) notes.add(result.absent);
    else inputs.push(...result.inputs);
  }
  for (const input of read) if (input) inputs.push(input);
  const snapshot = buildSnapshot(inputs);
  return { ...snapshot, notes: [...notes, ...snapshot.notes] };
}

type ListResult = { inputs: SnapshotInput[] } | { absent: string };

async function listAll(api: KubeClient, spec: ListSpec, pageSize: number): Promise<ListResult> {
  const source = `GET ${spec.path}`;
  const inputs: SnapshotInput[] = [];
  try {
    await listInPages(api, spec.path, { pageSize }, (page) => {
      for (const item of page.items ?? []) inputs.push({ source, object: withTypeMeta(item, page) });
    });
  } catch (error) {
    if (isStatus(error, 404) && spec.optionalGroup && inputs.length === 0) {
      return { absent: `${spec.optionalGroup} is not served by this apiserver (Calico's CRDs are not installed)` };
    }
    throw error;
  }
  return { inputs };
}

async function readOptional(api: KubeClient, path: string): Promise<SnapshotInput | null> {
  try {
    return { source: `GET ${path}`, object: await api.request('GET', path) };
  } catch (error) {
    if (isStatus(error, 404)) return null;
    throw error;
  }
}

/** Items of a typed list come without apiVersion and kind ("PodList" holds Pods); the snapshot builder needs both. */
function withTypeMeta(item: unknown, list: ListPage): unknown {
  const kind = list.kind?.endsWith('List') ? list.kind.slice(0, -'List'.length) : undefined;
  return isRecord(item) && kind ? { apiVersion: list.apiVersion, kind, ...item } : item;
}
