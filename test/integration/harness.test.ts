// The test control plane itself (harness/control-plane/controlplane.ts): every credential is the identity it
// claims and has the rights it needs, the cluster looks like a kubeadm one where netlab reads it, and
// a Node keeps the status it is created with (what the VM's kube-proxy relies on).
import { AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { createNamespace, clientsFor, createNode } from '../../harness/control-plane/cluster.ts';
import { mintIdentity, serviceAccountKubeconfig } from '../../harness/control-plane/controlplane.ts';
import { describeReal } from '../harness/require-real.ts';

function kubeConfig(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

async function whoAmI(file: string): Promise<{ username?: string; groups?: string[] }> {
  const review = await kubeConfig(file).makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
  return review.status?.userInfo ?? {};
}

async function can(file: string, verb: string, resource: string, group = '', namespace?: string): Promise<boolean> {
  const review = await kubeConfig(file)
    .makeApiClient(AuthorizationV1Api)
    .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource, group, namespace } } } });
  return review.status?.allowed === true;
}

describeReal('the test control plane (real components)', (info) => {
  const run = randomBytes(2).toString('hex');

  test('each component has its own credential, with the rights its job needs', async () => {
    const id = info.identities;
    expect(await whoAmI(id.admin!.kubeconfig)).toMatchObject({ username: 'kubernetes-admin', groups: expect.arrayContaining(['system:masters']) });
    expect(await whoAmI(id['kube-controller-manager']!.kubeconfig)).toMatchObject({ username: 'system:kube-controller-manager' });
    expect(await whoAmI(id['kube-proxy']!.kubeconfig)).toMatchObject({ username: 'system:kube-proxy' });
    expect(await whoAmI(id.coredns!.kubeconfig)).toMatchObject({ username: 'coredns' });

    const coredns = id.coredns!.kubeconfig;
    expect(await can(coredns, 'watch', 'endpointslices', 'discovery.k8s.io')).toBe(true);
    expect(await can(coredns, 'list', 'services')).toBe(true);
    expect(await can(coredns, 'list', 'secrets')).toBe(false);
    const kubeProxy = id['kube-proxy']!.kubeconfig;
    expect(await can(kubeProxy, 'watch', 'endpointslices', 'discovery.k8s.io')).toBe(true);
    expect(await can(kubeProxy, 'create', 'pods', '', 'default')).toBe(false);
  });

  test('more identities can be minted: a client certificate, or a ServiceAccount token', async () => {
    const viewer = await mintIdentity(info, `viewer-${run}`, `viewer-${run}`, ['netlab:viewers']);
    expect(await whoAmI(viewer.kubeconfig)).toMatchObject({ username: `viewer-${run}`, groups: expect.arrayContaining(['netlab:viewers']) });
    expect(await can(viewer.kubeconfig, 'list', 'pods')).toBe(false); // authenticated, not authorized

    const c = clientsFor(info.kubeconfig);
    const namespace = `operator-${run}`;
    await createNamespace(c, namespace);
    const saKubeconfig = await serviceAccountKubeconfig(info, namespace, 'netlab-operator');
    expect(await whoAmI(saKubeconfig)).toMatchObject({
      username: `system:serviceaccount:${namespace}:netlab-operator`,
      groups: expect.arrayContaining(['system:serviceaccounts', `system:serviceaccounts:${namespace}`]),
    });
  });

  test('the cluster looks like kubeadm where netlab reads it', async () => {
    const kc = kubeConfig(info.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const kubeDns = await core.readNamespacedService({ namespace: 'kube-system', name: 'kube-dns' });
    expect(kubeDns.spec?.clusterIP).toBe('10.96.0.10');
    expect(kubeDns.spec?.ports?.map((p) => `${p.name} ${p.port}/${p.protocol}`)).toEqual(['dns 53/UDP', 'dns-tcp 53/TCP', 'metrics 9153/TCP']);
    const corefile = (await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'coredns' })).data?.Corefile;
    expect(corefile).toContain('kubernetes cluster.local in-addr.arpa ip6.arpa');
    // The apiserver advertises the address a VM reaches it at, so the `kubernetes` Service works inside the VM.
    const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=kubernetes' });
    expect(slices.items.flatMap((s) => s.endpoints ?? []).flatMap((e) => e.addresses)).toEqual([info.vmApiserverAddress]);
    expect(slices.items[0]?.ports?.[0]?.port).toBe(info.apiserverPort);
  });

  test('a Node keeps the addresses and conditions it is created with (no status write needed)', async () => {
    const c = clientsFor(info.kubeconfig);
    const name = `harness-node-${run}`;
    await createNode(c, { name, internalIP: '192.168.251.7', podCIDRs: ['10.251.7.0/24'] });
    const node = await c.core.readNode({ name });
    expect(node.status?.addresses).toEqual([
      { type: 'InternalIP', address: '192.168.251.7' },
      { type: 'Hostname', address: name },
    ]);
    expect(node.status?.conditions?.find((cond) => cond.type === 'Ready')?.status).toBe('True');
    expect(node.spec?.podCIDRs).toEqual(['10.251.7.0/24']);
  });
});
