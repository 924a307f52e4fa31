// What the providers whose operator and kube-proxy run as Pods (kind, k3s) share: the lab they watch, their
// time limits, the operator's own Pod as the resolv.conf reader, commands on a node through its probe Pod,
// stopping the leading operator by deleting its Pod, and holding or stopping a node's kube-proxy by keeping its
// DaemonSet off that node (kube-proxy leaves its rules in place when it exits, so the node keeps the table it
// last wrote).
import { type Kube, waitUntil } from './cluster.ts';
import type { ConformanceCluster } from './scenarios.ts';

export const MINUTES_5 = 5 * 60_000;

interface PodList {
  items: { metadata: { name: string } }[];
}

type PodProviderPart = Pick<
  ConformanceCluster,
  'kube' | 'lab' | 'detectMs' | 'repairMs' | 'graceMs' | 'resolvConfReader' | 'onNode' | 'stopLeader' | 'holdKubeProxy' | 'releaseKubeProxy' | 'stopKubeProxy' | 'startKubeProxy'
>;

/** The shared part, for kube-proxy as DaemonSet kube-system/kube-proxy (label k8s-app=kube-proxy) and the operator's Deployment. */
export function podProviderPart(kube: Kube): PodProviderPart {
  const rollout = () => kube.run(['-n', 'kube-system', 'rollout', 'status', 'daemonset/kube-proxy', '--timeout=300s']);
  const keepKubeProxyOff = async (node: string) => {
    const away = { spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: [node] }] }] } } } } } } };
    await kube.run(['-n', 'kube-system', 'patch', 'daemonset/kube-proxy', '-p', JSON.stringify(away)]);
    await rollout();
    await waitUntil(`no kube-proxy pod runs on ${node}`, MINUTES_5, async () => {
      const left = await kube.json<PodList>(['-n', 'kube-system', 'get', 'pods', '-l', 'k8s-app=kube-proxy', '--field-selector', `spec.nodeName=${node}`]);
      return left.items.length === 0 ? true : null;
    });
  };
  const letKubeProxyBack = async () => {
    await kube.run(['-n', 'kube-system', 'patch', 'daemonset/kube-proxy', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/template/spec/affinity"}]']);
    await rollout();
  };
  return {
    kube,
    lab: ['default', 'seed-walkthrough'],
    detectMs: MINUTES_5,
    repairMs: MINUTES_5,
    graceMs: 60_000,
    resolvConfReader: { namespace: 'netlab-system', name: 'netlab-operator' },
    onNode: (node, argv) => kube.onNode(node, argv),
    async stopLeader() {
      const lease = await kube.json<{ spec: { holderIdentity?: string } }>(['-n', 'netlab-system', 'get', 'lease', 'netlab-operator']);
      const leader = lease.spec.holderIdentity;
      if (!leader) throw new Error('no operator Pod holds the Lease netlab-system/netlab-operator');
      await kube.run(['-n', 'netlab-system', 'delete', 'pod', leader, '--grace-period=0', '--force']);
      return leader;
    },
    holdKubeProxy: keepKubeProxyOff,
    releaseKubeProxy: letKubeProxyBack,
    stopKubeProxy: keepKubeProxyOff,
    startKubeProxy: letKubeProxyBack,
  };
}
