// The conformance provider for k3s through @testcontainers/k3s, for machines with a container engine but no
// kind. Two nodes, so the route scenario crosses nodes: a k3s server container and a k3s agent container on
// one container network. k3s's own Flannel (VXLAN) routes the Pods, as on the harness's VM cluster.
//
// k3s's built-in kube-proxy is turned off (--disable-kube-proxy) and upstream kube-proxy runs as a DaemonSet
// in IPVS mode instead, as kubeadm deploys it: the built-in one lives in the k3s process with the kubelet, so
// it cannot be held on one node without stopping the node's exec path, and it publishes no kube-proxy
// ConfigMap for the operator to read its mode and scheduler from. The addresses are kubeadm's defaults
// (Services 10.96.0.0/12, kube-dns 10.96.0.10, Pods 10.244.0.0/16), which the scenarios name.
//
// netlab is installed with `kubectl apply -k manifests/`, unchanged, and the operator runs in its own Pods.
// Its image and the probe's come from the harness's builder (harness/images: the files the Dockerfiles
// describe, read from this machine's Debian packages and the `node` npm package), put where k3s imports
// images when it starts. So this provider needs a Debian host with net-tools, ipvsadm, iproute2 and
// dnsutils, besides the engine and kubectl.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { K3sContainer } from '@testcontainers/k3s';
import { GenericContainer, Network, type StartedNetwork, type StartedTestContainer, Wait } from 'testcontainers';
import { PROJECT_ROOT } from '../../harness/control-plane/binaries.ts';
import { buildImage } from '../../harness/images/images.ts';
import { createProcessRunner } from '../../src/lab/runner.ts';
import { Kube, waitUntil } from './cluster.ts';
import { deleteFlannelRoute } from './flannel-route.ts';
import { MINUTES_5, podProviderPart } from './pod-controls.ts';
import type { ClusterProvider, ConformanceCluster } from './scenarios.ts';

/** the Kubernetes release the harness builds; NETLAB_K3S_IMAGE picks another k3s */
const K3S_IMAGE = process.env.NETLAB_K3S_IMAGE ?? 'rancher/k3s:v1.37.2-k3s1';
const SERVER_NODE = 'k3s-server';
const AGENT_NODE = 'k3s-agent';
const API_PORT = 6443;
const POD_CIDR = '10.244.0.0/16';
/** where k3s imports image archives from when it starts */
const K3S_IMAGES_DIR = '/var/lib/rancher/k3s/agent/images';

/** upstream kube-proxy of the same release as the k3s image: v1.37.2-k3s1 → registry.k8s.io/kube-proxy:v1.37.2 */
export function kubeProxyImage(k3sImage: string): string {
  const version = /:(v\d+\.\d+\.\d+)[-+]k3s\d+$/.exec(k3sImage)?.[1];
  if (!version) throw new Error(`NETLAB_K3S_IMAGE: cannot read a Kubernetes version from "${k3sImage}" (expected a tag like v1.37.2-k3s1)`);
  return `registry.k8s.io/kube-proxy:${version}`;
}

/** the k3s server's arguments: kubeadm's addresses, Flannel VXLAN, no built-in kube-proxy, no add-ons netlab does not check */
export function k3sServerArgs(token: string): string[] {
  return [
    'server',
    `--node-name=${SERVER_NODE}`,
    `--token=${token}`,
    '--flannel-backend=vxlan',
    '--disable-kube-proxy',
    '--disable-network-policy',
    '--disable=traefik,servicelb,metrics-server,local-storage',
    `--cluster-cidr=${POD_CIDR}`,
    '--service-cidr=10.96.0.0/12',
    '--cluster-dns=10.96.0.10',
  ];
}

/**
 * kube-proxy as kubeadm deploys it: ConfigMap kube-system/kube-proxy (key config.conf, which the operator reads),
 * a ServiceAccount bound to the built-in ClusterRole system:node-proxier, and a DaemonSet on the host network.
 * It reaches the apiserver at `apiserverHost` directly: 10.96.0.1 is what it is about to program.
 */
export function kubeProxyObjects(image: string, apiserverHost: string): object[] {
  const config = [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    'mode: ipvs',
    `clusterCIDR: ${POD_CIDR}`,
    // leave nf_conntrack_max alone: a node container cannot set it for its host
    'conntrack:',
    '  maxPerCore: 0',
    '',
  ].join('\n');
  const labels = { 'k8s-app': 'kube-proxy' };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system', labels }, data: { 'config.conf': config } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'netlab-conformance:node-proxier' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
      subjects: [{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: 'kube-system' }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-proxy', namespace: 'kube-system', labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            serviceAccountName: 'kube-proxy',
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: 'kube-proxy',
                image,
                command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
                env: [
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  { name: 'KUBERNETES_SERVICE_HOST', value: apiserverHost },
                  { name: 'KUBERNETES_SERVICE_PORT', value: String(API_PORT) },
                ],
                securityContext: { privileged: true },
                volumeMounts: [
                  { name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' },
                  { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
                  { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'kube-proxy', configMap: { name: 'kube-proxy' } },
              { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
              { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
            ],
          },
        },
      },
    },
  ];
}

/** What a k3s node container needs beyond the image: what K3sContainer sets for the server, and the host's kernel modules (IPVS). */
function asK3sNode<T extends GenericContainer>(container: T, images: { source: string; target: string }[]): T {
  return container
    .withPrivilegedMode()
    .withBindMounts([
      { source: '/sys/fs/cgroup', target: '/sys/fs/cgroup' },
      { source: '/lib/modules', target: '/lib/modules', mode: 'ro' },
    ])
    .withTmpFs({ '/run': 'rw', '/var/run': 'rw' })
    .withCopyFilesToContainer(images);
}

/** A k3s agent joining the server; K3sContainer itself only starts servers (it waits for the server's log and reads its kubeconfig). */
class K3sAgentContainer extends GenericContainer {
  constructor(image: string, serverUrl: string, token: string) {
    super(image);
    // as K3sContainer has it for the server (dockerode's HostConfig type lacks the field the engine takes)
    Object.assign(this.hostConfig, { CgroupnsMode: 'host' });
    this.withCommand(['agent', `--node-name=${AGENT_NODE}`])
      .withEnvironment({ K3S_URL: serverUrl, K3S_TOKEN: token })
      .withWaitStrategy(Wait.forLogMessage('Starting k3s agent'))
      .withStartupTimeout(120_000);
  }
}

/** progress on the way up, which takes minutes (image pulls, two nodes, netlab) */
const log = (line: string) => process.stderr.write(`netlab conformance (k3s): ${line}\n`);

export function k3sProvider(engineDescription: string): ClusterProvider {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-k3s-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  const kube = new Kube(createProcessRunner(PROJECT_ROOT), ['--kubeconfig', kubeconfig]);
  const started: { network?: StartedNetwork; nodes: StartedTestContainer[] } = { nodes: [] };
  const shared = podProviderPart(kube);
  const cluster: ConformanceCluster = {
    ...shared,
    description: `k3s (${K3S_IMAGE}), ${SERVER_NODE} and ${AGENT_NODE}, Flannel vxlan, kube-proxy IPVS as a DaemonSet, the operator in its Pods; ${engineDescription}`,
    targetNode: AGENT_NODE,
    // k3s runs one CoreDNS Pod
    coredns: { namespace: 'kube-system', name: 'coredns', replicas: 1 },
    // the agent's route to the server's Pod subnet
    breakRoute: () => deleteFlannelRoute(kube, shared.onNode, AGENT_NODE, SERVER_NODE),
  };

  return {
    cluster,
    async up() {
      const proxyImage = kubeProxyImage(K3S_IMAGE);
      const images = [];
      for (const id of ['probe', 'operator'] as const) {
        const built = await buildImage(id);
        log(`image ${built.name}: ${built.archive} (${(built.bytes / 1e6).toFixed(0)} MB)`);
        images.push({ source: built.archive, target: `${K3S_IMAGES_DIR}/netlab-${id}.tar` });
      }
      const token = randomBytes(16).toString('hex');
      started.network = await new Network().start();
      log(`starting the k3s server ${K3S_IMAGE}`);
      const server = await asK3sNode(new K3sContainer(K3S_IMAGE), images).withNetwork(started.network).withNetworkAliases(SERVER_NODE).withCommand(k3sServerArgs(token)).start();
      started.nodes.push(server);
      writeFileSync(kubeconfig, server.getKubeConfig(), { mode: 0o600 });
      const serverIP = server.getIpAddress(started.network.getName());
      log(`starting the k3s agent (server ${serverIP})`);
      started.nodes.push(await asK3sNode(new K3sAgentContainer(K3S_IMAGE, `https://${serverIP}:${API_PORT}`, token), images).withNetwork(started.network).start());

      await kube.run(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: kubeProxyObjects(proxyImage, serverIP) }));
      await waitUntil(`nodes ${SERVER_NODE} and ${AGENT_NODE} registered`, MINUTES_5, async () => {
        const nodes = await kube.json<{ items: unknown[] }>(['get', 'nodes']);
        return nodes.items.length === 2 ? true : null;
      });
      await kube.run(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=300s']);
      await kube.run(['-n', 'kube-system', 'rollout', 'status', 'daemonset/kube-proxy', '--timeout=300s']);
      await kube.run(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=300s']);
      log('kube-proxy (IPVS) and CoreDNS ready; installing netlab with kubectl apply -k manifests/');

      // the CRD first, as `netlab lab up` does: in one apply, kubectl rejects the labs before the CRD is served
      await kube.run(['apply', '-k', 'crds']);
      await kube.run(['wait', '--for=condition=Established', 'crd/networklabs.netlab.dev', '--timeout=60s']);
      await kube.run(['apply', '-k', 'manifests']);
      await kube.run(['-n', 'netlab-system', 'rollout', 'status', 'daemonset/netlab-probe', '--timeout=300s']);
      await kube.run(['-n', 'netlab-system', 'rollout', 'status', 'deployment/netlab-operator', '--timeout=300s']);
      log(`netlab installed; kubeconfig ${kubeconfig}`);
    },
    async down() {
      for (const node of started.nodes.reverse()) await node.stop();
      await started.network?.stop();
    },
  };
}
