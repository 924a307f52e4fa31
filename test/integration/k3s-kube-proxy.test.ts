// The objects the k3s conformance provider applies for kube-proxy (test/conformance/k3s-cluster.ts), sent to
// the harness's real kube-apiserver as a server-side apply dry run: the schema, the ClusterRole it binds and
// the DaemonSet's Pod template are the API server's to accept, on a machine where k3s itself cannot run.
import { ApiException, KubernetesObjectApi, type KubernetesObject, loadYaml, PatchStrategy } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { adminKubeConfig } from '../../harness/control-plane/controlplane.ts';
import { kubeProxyObjects } from '../conformance/k3s-cluster.ts';
import { describeReal } from '../harness/require-real.ts';

describeReal('the k3s provider\'s kube-proxy on the real kube-apiserver (server-side dry run)', (info) => {
  const objects = kubeProxyObjects('registry.k8s.io/kube-proxy:v1.37.2', '172.18.0.2') as KubernetesObject[];

  test.each(objects.map((o) => [`${o.kind} ${o.metadata?.name}`, o] as const))('%s is accepted', async (_id, object) => {
    const client = KubernetesObjectApi.makeApiClient(adminKubeConfig(info));
    const result = await client.patch(loadYaml<KubernetesObject>(stringify(object)), undefined, 'All', 'netlab-k3s-test', true, PatchStrategy.ServerSideApply).catch((e: unknown) => {
      throw new Error(`${object.kind} ${object.metadata?.name} was rejected: ${e instanceof ApiException ? JSON.stringify(e.body) : String(e)}`);
    });
    expect({ kind: result.kind, name: result.metadata?.name }).toEqual({ kind: object.kind, name: object.metadata?.name });
  });

  test('the ClusterRole it binds is one the API server bootstraps', async () => {
    const client = KubernetesObjectApi.makeApiClient(adminKubeConfig(info));
    const role = await client.read({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:node-proxier' } });
    expect(role.metadata?.name).toBe('system:node-proxier');
  });
});
