// Takes a snapshot from a live apiserver. The lists are read as raw JSON over HTTPS (credentials from
// the kubeconfig), not through client-node's typed models: those turn timestamps into Dates and drop
// fields the client does not know, while the projections expect exactly what the API serves, the same
// as a `kubectl get -o yaml` file.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
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
  { path: '/apis/crd.projectcalico.org/v1/ippools', optionalGroup: 'crd.projectcalico.org/v1' },
  { path: '/apis/crd.projectcalico.org/v1/ipamblocks', optionalGroup: 'crd.projectcalico.org/v1' },
  { path: '/apis/crd.projectcalico.org/v1/blockaffinities', optionalGroup: 'crd.projectcalico.org/v1' },
];

/** ConfigMaps read by name; absent ones leave buildSnapshot's defaults (and its note) in place. */
const configMaps = ['/api/v1/namespaces/kube-system/configmaps/kube-proxy', '/api/v1/namespaces/kube-system/configmaps/coredns'];

/** Lists what netlab reads from the cluster `kc` points at and builds the snapshot from it. */
export async function fetchSnapshot(kc: KubeConfig, opts: FetchSnapshotOptions = {}): Promise<ClusterSnapshot> {
  const api = new RawApi(kc, opts.timeoutMs ?? 30_000);
  const pageSize = opts.pageSize ?? 500;
  const listed = await Promise.all(lists.map((spec) => listAll(api, spec, pageSize)));
  const read = await Promise.all(configMaps.map((path) => readOptional(api, path)));

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

async function listAll(api: RawApi, spec: ListSpec, pageSize: number): Promise<ListResult> {
  const source = `GET ${spec.path}`;
  const inputs: SnapshotInput[] = [];
  let continueToken = '';
  do {
    const query = new URLSearchParams({ limit: String(pageSize) });
    if (continueToken) query.set('continue', continueToken);
    const { status, body } = await api.get(`${spec.path}?${query}`);
    if (status === 404 && spec.optionalGroup && inputs.length === 0) {
      return { absent: `${spec.optionalGroup} is not served by this apiserver (Calico's CRDs are not installed)` };
    }
    if (status !== 200) throw api.failure(spec.path, status, body);
    const list = asList(body, spec.path);
    for (const item of list.items) inputs.push({ source, object: withTypeMeta(item, list) });
    continueToken = list.continueToken;
  } while (continueToken);
  return { inputs };
}

async function readOptional(api: RawApi, path: string): Promise<SnapshotInput | null> {
  const { status, body } = await api.get(path);
  if (status === 404) return null;
  if (status !== 200) throw api.failure(path, status, body);
  return { source: `GET ${path}`, object: body };
}

interface List {
  apiVersion: string;
  itemKind: string;
  items: unknown[];
  continueToken: string;
}

function asList(body: unknown, path: string): List {
  const kind = isRecord(body) ? body.kind : undefined;
  if (!isRecord(body) || typeof kind !== 'string' || !kind.endsWith('List') || !Array.isArray(body.items)) {
    throw new Error(`fetchSnapshot: GET ${path} did not return a list (kind ${String(kind)})`);
  }
  const metadata = isRecord(body.metadata) ? body.metadata : {};
  return {
    apiVersion: typeof body.apiVersion === 'string' ? body.apiVersion : '',
    itemKind: kind.slice(0, -'List'.length),
    items: body.items,
    continueToken: typeof metadata.continue === 'string' ? metadata.continue : '',
  };
}

/** Items of a typed list come without apiVersion and kind; the snapshot builder needs both. */
function withTypeMeta(item: unknown, list: List): unknown {
  return isRecord(item) ? { apiVersion: list.apiVersion, kind: list.itemKind, ...item } : item;
}

interface RawResponse {
  status: number;
  body: unknown;
}

class RawApi {
  readonly kc: KubeConfig;
  readonly server: string;
  readonly timeoutMs: number;

  constructor(kc: KubeConfig, timeoutMs: number) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('fetchSnapshot: the kubeconfig has no current cluster');
    this.kc = kc;
    this.server = cluster.server.replace(/\/+$/, ''); // a server URL may carry a path prefix (proxies)
    this.timeoutMs = timeoutMs;
  }

  async get(path: string): Promise<RawResponse> {
    const url = `${this.server}${path}`;
    const options: https.RequestOptions = { headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    const plain = url.startsWith('http:'); // e.g. `kubectl proxy`
    if (plain) delete options.agent; // the kubeconfig's agent speaks TLS only
    return new Promise((resolve, reject) => {
      const request = (plain ? http : https).get(url, { ...options, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status, body: text === '' ? null : JSON.parse(text) });
          } catch {
            // Errors outside any API group come as plain text ("404 page not found"); a list must be JSON.
            if (status !== 200) resolve({ status, body: text.trim() });
            else reject(new Error(`fetchSnapshot: GET ${url} returned a body that is not JSON: ${text.slice(0, 200)}`));
          }
        });
        res.on('error', (err) => reject(new Error(`fetchSnapshot: GET ${url}: ${err.message}`)));
      });
      request.on('timeout', () => request.destroy(new Error(`no response within ${this.timeoutMs} ms`)));
      request.on('error', (err) => reject(new Error(`fetchSnapshot: GET ${url}: ${err.message}`)));
    });
  }

  /** An error naming the request and quoting the apiserver's Status message (e.g. RBAC's "forbidden"). */
  failure(path: string, status: number, body: unknown): Error {
    const message = isRecord(body) && typeof body.message === 'string' ? body.message : typeof body === 'string' ? body : JSON.stringify(body);
    return new Error(`fetchSnapshot: GET ${this.server}${path} returned ${status}: ${message}`);
  }
}
