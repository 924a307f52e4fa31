// Helpers shared by the operator's integration suites (test/integration/crd.test.ts, operator*.test.ts):
// installing netlab's own manifests into the harness API server, and small waits.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isStatus, type KubeClient } from '../../src/operator/kube-http.ts';

const root = path.resolve(import.meta.dirname, '../..');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; resourceVersion?: string }; [k: string]: unknown };

export function loadYaml(file: string): Obj[] {
  return parseAllDocuments(readFileSync(path.join(root, file), 'utf8'))
    .map((d) => d.toJS() as Obj)
    .filter((d) => d !== null);
}

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  CustomResourceDefinition: 'customresourcedefinitions',
  Service: 'services',
  Deployment: 'deployments',
  DaemonSet: 'daemonsets',
  NetworkLab: 'networklabs',
};

export function pathOf(obj: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): { collection: string; item: string } {
  const base = obj.apiVersion === 'v1' ? '/api/v1' : `/apis/${obj.apiVersion}`;
  const plural = PLURALS[obj.kind];
  if (plural === undefined) throw new Error(`support: no plural known for kind ${obj.kind}`);
  const collection = obj.metadata.namespace ? `${base}/namespaces/${obj.metadata.namespace}/${plural}` : `${base}/${plural}`;
  return { collection, item: `${collection}/${obj.metadata.name}` };
}

/** Create, or replace when it exists (the suites share one API server). */
export async function apply(client: KubeClient, obj: Obj): Promise<unknown> {
  const { collection, item } = pathOf(obj);
  try {
    return await client.request('POST', collection, obj);
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
    const current = (await client.request('GET', item)) as Obj;
    return client.request('PUT', item, { ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata.resourceVersion } });
  }
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Installs crds/networklab.yaml and waits until the API server serves it. */
export async function installCrd(client: KubeClient): Promise<void> {
  const [crd] = loadYaml('crds/networklab.yaml');
  await apply(client, crd!);
  await waitUntil('CRD networklabs.netlab.dev Established', async () => {
    const current = (await client.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/networklabs.netlab.dev')) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
  // Discovery can lag Established by a moment.
  await waitUntil('networklabs served', () => client.request('GET', '/apis/netlab.dev/v1alpha1/networklabs'));
}

export function lab(namespace: string, name: string, spec: Record<string, unknown>): Obj {
  return { apiVersion: 'netlab.dev/v1alpha1', kind: 'NetworkLab', metadata: { name, namespace }, spec };
}
