// Cluster objects for real-component tests. No kubelet runs, so a test plays its part: it creates the
// Node objects, binds Pods to them (spec.nodeName) and writes their status (Running, Ready, pod IPs)
// through the status subresource. kube-controller-manager then builds the EndpointSlices as usual.
import { ApiException, CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1EndpointSlice, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { sleep } from './processes.ts';

export interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  discovery: DiscoveryV1Api;
}

export function clientsFor(kubeconfigFile: string): Clients {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  return { kc, core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
}

/** Polls `probe` until it returns something other than null/false; the timeout error names `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}

/** A namespace, ready for Pods: ServiceAccount admission rejects Pods until the controller made `default`. */
export async function createNamespace(c: Clients, name: string): Promise<void> {
  await c.core.createNamespace({ body: { metadata: { name } } });
  await waitFor(`ServiceAccount ${name}/default`, async () => {
    try {
      return await c.core.readNamespacedServiceAccount({ namespace: name, name: 'default' });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return null;
      throw err;
    }
  });
}

export interface NodeFixture {
  name: string;
  internalIP: string;
  podCIDRs?: string[];
  labels?: Record<string, string>;
}

/** A Node with an InternalIP and a Ready condition, as a kubelet would register it. */
export async function createNode(c: Clients, node: NodeFixture): Promise<void> {
  await c.core.createNode({
    body: {
      metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux', ...node.labels } },
      spec: node.podCIDRs ? { podCIDR: node.podCIDRs[0], podCIDRs: node.podCIDRs } : {},
      status: {
        addresses: [
          { type: 'InternalIP', address: node.internalIP },
          { type: 'Hostname', address: node.name },
        ],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'set by the netlab test harness' }],
      },
    },
  });
}

export interface PodFixture {
  namespace: string;
  name: string;
  nodeName: string;
  /** the node's address, written to status.hostIP */
  hostIP: string;
  podIPs: string[];
  labels?: Record<string, string>;
  hostname?: string;
  subdomain?: string;
  ports?: { name: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
  /** default true */
  ready?: boolean;
}

/** Creates the Pod bound to its node, then writes the status a kubelet would: Running, with IPs and readiness. */
export async function createPod(c: Clients, pod: PodFixture): Promise<void> {
  await c.core.createNamespacedPod({
    namespace: pod.namespace,
    body: {
      metadata: { name: pod.name, labels: pod.labels },
      spec: {
        nodeName: pod.nodeName,
        hostname: pod.hostname,
        subdomain: pod.subdomain,
        automountServiceAccountToken: false,
        // never pulled or run: no kubelet
        containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', ports: pod.ports }],
      },
    },
  });
  await writePodStatus(c, pod.namespace, pod.name, (status) => {
    status.phase = 'Running';
    status.hostIP = pod.hostIP;
    status.hostIPs = [{ ip: pod.hostIP }];
    status.podIP = pod.podIPs[0];
    status.podIPs = pod.podIPs.map((ip) => ({ ip }));
    status.startTime = new Date();
    status.conditions = podConditions(pod.ready ?? true);
  });
}

/** Flips the Pod's Ready and ContainersReady conditions, as a kubelet does when a readiness probe changes. */
export async function setPodReady(c: Clients, namespace: string, name: string, ready: boolean): Promise<void> {
  await writePodStatus(c, namespace, name, (status) => {
    status.conditions = podConditions(ready);
  });
}

function podConditions(ready: boolean): V1PodCondition[] {
  const now = new Date();
  const readiness = ready ? 'True' : 'False';
  return [
    { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
    { type: 'Initialized', status: 'True', lastTransitionTime: now },
    { type: 'ContainersReady', status: readiness, lastTransitionTime: now },
    { type: 'Ready', status: readiness, lastTransitionTime: now },
  ];
}

async function writePodStatus(c: Clients, namespace: string, name: string, change: (status: NonNullable<V1Pod['status']>) => void) {
  const pod = await c.core.readNamespacedPod({ namespace, name });
  pod.status ??= {};
  change(pod.status);
  await c.core.replaceNamespacedPodStatus({ namespace, name, body: pod });
}

/** Waits until the Service's EndpointSlices (by the kubernetes.io/service-name label) satisfy `done`. */
export async function waitForEndpointSlices(
  c: Clients,
  namespace: string,
  service: string,
  done: (slices: V1EndpointSlice[]) => boolean,
  timeoutMs?: number,
): Promise<V1EndpointSlice[]> {
  return waitFor(
    `EndpointSlices of Service ${namespace}/${service}`,
    async () => {
      const list = await c.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
      return done(list.items) ? list.items : null;
    },
    timeoutMs,
  );
}

/** All addresses of the slices' endpoints that are ready (nil ready counts as ready, as the API documents). */
export function readyAddresses(slices: V1EndpointSlice[]): string[] {
  return slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)).sort();
}
