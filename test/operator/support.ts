// Helpers shared by the operator's integration suites (test/integration/crd.test.ts, operator*.test.ts):
// installing netlab's own manifests into the harness API server, and small waits.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { createDnsProber } from '../../src/observe/dns.ts';
import { ExecChannelError, type NodeExec } from '../../src/observe/exec.ts';
import { isStatus, type KubeClient } from '../../src/kube/client.ts';
import type { Observers } from '../../src/operator/observe.ts';
import type { ControlPlaneInfo } from '../../harness/control-plane/controlplane.ts';

const root = path.resolve(import.meta.dirname, '../..');
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; [k: string]: unknown };

export function loadYaml(file: string): Obj[] {
  return parseAllDocuments(readFileSync(path.join(root, file), 'utf8'))
    .map((d) => d.toJS() as Obj)
    .filter((d) => d !== null);
}

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  Node: 'nodes',
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

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface LabObject {
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    layers?: Record<string, { expected: number; observed: number; missing: number; unexpected: number; mismatched: number }>;
    findings?: { layer: string; kind: string; key: string; node?: string; message: string; converging: boolean }[];
    totalFindings?: number;
    lastCheckTime?: string;
    programmingLatency?: { node: string; change: string; seconds: number }[];
  };
}

export function labPath(namespace: string, name?: string): string {
  return `/apis/netlab.dev/v1alpha1/namespaces/${namespace}/networklabs${name ? `/${name}` : ''}`;
}

export async function getLab(client: KubeClient, namespace: string, name: string): Promise<LabObject> {
  return (await client.request('GET', labPath(namespace, name))) as LabObject;
}

export function conditionOf(lab: LabObject, type: string): Condition | undefined {
  return lab.status?.conditions?.find((c) => c.type === type);
}

/** Polls the lab until `ok` holds; the error shows the last status seen. */
export async function waitForLab(client: KubeClient, namespace: string, name: string, what: string, ok: (lab: LabObject) => boolean, timeoutMs = 30_000): Promise<LabObject> {
  let last: LabObject | undefined;
  try {
    return await waitUntil(
      `NetworkLab ${namespace}/${name}: ${what}`,
      async () => {
        last = await getLab(client, namespace, name);
        return ok(last) ? last : null;
      },
      timeoutMs,
      25,
    );
  } catch (error) {
    (error as Error).message += `\nlast status: ${JSON.stringify(last?.status ?? null, null, 1).slice(0, 3000)}`;
    throw error;
  }
}

/** Every status the API server reports for one lab, in order, through a watch: catches states a poll could miss. */
export function recordLabStatuses(kc: KubeConfig, namespace: string, name: string): { statuses: LabObject[]; stop(): void } {
  const statuses: LabObject[] = [];
  let controller: AbortController | undefined;
  let stopped = false;
  const start = () => {
    void new Watch(kc)
      .watch(labPath(namespace), { fieldSelector: `metadata.name=${name}` }, (_phase, obj: LabObject) => statuses.push(obj), () => {
        if (!stopped) setTimeout(start, 100); // the watch times out when quiet: keep it going
      })
      .then((c) => (controller = c));
  };
  start();
  return {
    statuses,
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

/** A TCP relay on 127.0.0.1 in front of the API server, that a test can cut (an outage) and restore. */
export async function startTcpRelay(targetPort: number): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  await listen();
  return { get port() { return port; }, cut: stopListening, restore: listen, close: stopListening };
}

/** A copy of a kubeconfig whose server is https://127.0.0.1:<port> (for the relay above). */
export function kubeConfigVia(kc: KubeConfig, port: number): KubeConfig {
  const copy = new KubeConfig();
  const cluster = kc.getCurrentCluster()!;
  copy.loadFromOptions({
    clusters: kc.getClusters().map((c) => (c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${port}` } : c)),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  return copy;
}

/**
 * Observers for the harness: DNS questions go to the harness CoreDNS on its loopback port (the cluster
 * DNS IP exists only inside a VM); nodes go through `nodeExec` (the VM), or fail when a suite observes none.
 */
export function harnessObservers(info: ControlPlaneInfo, nodeExec?: NodeExec): Partial<Observers> {
  return {
    dns: { prober: createDnsProber({ maxQueriesPerSecond: 1000, timeoutMs: 2000 }), servers: () => [{ host: info.dns.host, port: info.dns.port, transport: 'udp' }] },
    nodeExec: nodeExec ?? { exec: async (node, argv) => Promise.reject(new ExecChannelError(node, argv, 'no node is observed in this suite')) },
  };
}

/**
 * Deletes a test namespace and, first and explicitly, its labs: on a shared API server another suite's
 * operator must not keep checking them while the namespace controller works through the namespace.
 */
export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  for (const path of [labPath(name), `/api/v1/namespaces/${name}`]) {
    try {
      await client.request('DELETE', path);
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }
}

export async function deleteNode(client: KubeClient, name: string): Promise<void> {
  try {
    await client.request('DELETE', `/api/v1/nodes/${name}`);
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
}
