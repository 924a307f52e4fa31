// The cluster add-ons of the node cluster, as a kubeadm cluster has them: CoreDNS running as Pods behind
// the kube-dns Service (10.96.0.10), and the RBAC flanneld needs. Images are the ones the image builder
// imports into every node's containerd (harness/images).
import { ApiException } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { CLUSTER_DOMAIN } from '../control-plane/controlplane.ts';
import { COREDNS_IMAGE } from '../images/recipes.ts';

/** kubeadm's Corefile for in-cluster CoreDNS, without `forward` (nothing may leave the VMs) and `cache` (tests see every change at once). */
export const IN_CLUSTER_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    loop
    reload
    loadbalance
}
`;

/** ClusterRole and binding flanneld's Kubernetes subnet manager needs (as flannel's own manifest grants). */
export async function grantFlannel(kc: KubeConfig, user: string): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await ignoreExists(
    rbac.createClusterRole({
      body: {
        metadata: { name: 'flannel' },
        rules: [
          { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
          { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
        ],
      },
    }),
  );
  await ignoreExists(
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'flannel' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flannel' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
    }),
  );
}

/**
 * CoreDNS as kubeadm deploys it: ServiceAccount kube-system/coredns (bound to system:coredns), the Corefile
 * in ConfigMap kube-system/coredns, a Deployment of `replicas` Pods labelled k8s-app=kube-dns that the
 * existing kube-dns Service selects, one per node.
 */
export async function deployCoreDns(kc: KubeConfig, replicas: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await ignoreExists(core.createNamespacedServiceAccount({ namespace: 'kube-system', body: { metadata: { name: 'coredns' } } }));
  const binding = await rbac.readClusterRoleBinding({ name: 'system:coredns' });
  binding.subjects = [...(binding.subjects ?? []), { kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }];
  await rbac.replaceClusterRoleBinding({ name: 'system:coredns', body: binding });
  await core.replaceNamespacedConfigMap({
    namespace: 'kube-system',
    name: 'coredns',
    body: { metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: IN_CLUSTER_COREFILE } },
  });
  const labels = { 'k8s-app': 'kube-dns' };
  const deployment: V1Deployment = {
    metadata: { name: 'coredns', namespace: 'kube-system', labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: 'coredns',
          priorityClassName: 'system-cluster-critical',
          dnsPolicy: 'Default',
          // one per node, as kubeadm's preferred anti-affinity ends up on a small cluster
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }] } },
          tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
          containers: [
            {
              name: 'coredns',
              image: COREDNS_IMAGE,
              imagePullPolicy: 'Never',
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, readOnlyRootFilesystem: true },
              // kubeadm's readiness probe, with time for TCG: an answer within kubeadm's 1 s is not a given in an
              // emulated VM, and with 10 s and three chances both CoreDNS Pods left the kube-dns endpoints again and
              // again on nodes with no idle CPU (operator Pods, 2026-12-01 22:45), so kube-proxy's real servers
              // changed faster than a check could confirm them. No liveness probe: on a busy emulated node /health
              // went unanswered for 100 s and the kubelet restarted a CoreDNS that worked, which then took minutes to
              // start again (2026-12-01).
              readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 10, timeoutSeconds: 30, failureThreshold: 6 },
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
            },
          ],
          volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
        },
      },
    },
  };
  await apps.createNamespacedDeployment({ namespace: 'kube-system', body: deployment });
}

async function ignoreExists(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}
