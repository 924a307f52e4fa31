// Every object of `kubectl apply -k manifests/` against the real kube-apiserver of the harness: the CRD is
// applied for real (the NetworkLabs need its kind served), the Namespaces too (a dry run inside a namespace
// that does not exist fails), everything else as a server-side apply dry run, which is what
// `kubectl apply --server-side --dry-run=server` sends. Calico's own manifest is not here: it is applied
// from its release URL by `netlab lab up`, and the tests run offline (its patch is checked in test/lab).
//
// Then Pod Security: the operator's and the probe's pod templates, as Pods, dry-run created in a namespace
// that enforces the `baseline` profile. The operator passes; the probe cannot, and the test pins exactly
// why (hostNetwork and NET_ADMIN, both needed to read a node's routes and IPVS table), and that its own
// namespace's labels do admit it.
import { ApiException, KubernetesObjectApi, type KubernetesObject, loadYaml, PatchStrategy } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { adminKubeConfig } from '../../harness/control-plane/controlplane.ts';
import { describeReal } from '../harness/require-real.ts';
import { loadKustomization, objectId, PROJECT_ROOT, type ManifestObject } from '../lab/manifest-set.ts';

const FIELD_MANAGER = 'netlab-manifests-test';
const objects = loadKustomization(`${PROJECT_ROOT}/manifests`).map((o) => o.object);

/**
 * client-node serializes built-in kinds through its generated models, which name some fields differently
 * from the wire (x_kubernetes_validations for x-kubernetes-validations, ...). A plain object parsed from
 * YAML loses those fields on the way out (a CRD would lose its defaults, list types and CEL rules), so
 * every object goes through client-node's own loadYaml, which maps wire names to model names first.
 */
function forClient<T extends KubernetesObject>(o: T): T {
  return loadYaml<T>(stringify(o));
}
const realFirst = (o: ManifestObject) => o.kind === 'CustomResourceDefinition' || o.kind === 'Namespace';

function apiMessage(e: unknown): string {
  if (e instanceof ApiException) {
    const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

interface PodTemplateOwner extends ManifestObject {
  spec: { template: { spec: { serviceAccountName?: string; [field: string]: unknown } } };
}

function podFrom(kind: string, name: string, namespace: string): KubernetesObject & { spec: PodTemplateOwner['spec']['template']['spec'] } {
  const owner = objects.find((o) => o.kind === kind && o.metadata.name === name) as PodTemplateOwner | undefined;
  if (!owner) throw new Error(`manifests/ has no ${kind} ${name}`);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-pod-security-check`, namespace }, spec: owner.spec.template.spec };
}

describeReal('manifests/ on the real kube-apiserver (server-side dry run)', (info) => {
  const kc = adminKubeConfig(info);
  let client: KubernetesObjectApi;

  const apply = (o: KubernetesObject, dryRun?: 'All') => client.patch(forClient(o), undefined, dryRun, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  const dryCreate = (pod: KubernetesObject) => client.create(forClient(pod), undefined, 'All', FIELD_MANAGER);

  beforeAll(async () => {
    client = KubernetesObjectApi.makeApiClient(kc);
    for (const o of objects.filter(realFirst)) await apply(o);
    // The NetworkLabs can only be applied once the CRD is established.
    for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const got = (await client.read(crd)) as KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } };
        if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not established after 30s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    // A fresh client: the first one may have cached discovery from before the CRD existed.
    client = KubernetesObjectApi.makeApiClient(kc);
  });

  test.each(objects.filter((o) => !realFirst(o)).map((o) => [objectId(o), o] as const))('%s', async (_id, object) => {
    let result: KubernetesObject;
    try {
      result = await apply(object, 'All');
    } catch (e) {
      throw new Error(`${objectId(object)} was rejected by the API server: ${apiMessage(e)}`);
    }
    // the API server answered with the object it would have stored, defaulted
    expect({ kind: result.kind, name: result.metadata?.name }).toEqual({ kind: object.kind, name: object.metadata.name });
  });

  test('the dry run really validates: a NetworkLab breaking the CRD\'s rules is rejected with the CRD\'s message', async () => {
    const lab = objects.find((o) => o.kind === 'NetworkLab')!;
    const bad = { ...lab, spec: { ...(lab.spec as object), interval: '5s' } };
    const message = await apply(bad, 'All').then(() => 'accepted', (e: unknown) => apiMessage(e));
    expect(message).toContain('interval must be between 10s and 24h');
  });

  describe('Pod Security admission', () => {
    const baseline = 'netlab-psa-baseline';
    const likeProbeNamespace = 'netlab-psa-like-netlab-system';

    beforeAll(async () => {
      const probeNamespace = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === 'netlab-system');
      if (!probeNamespace) throw new Error('manifests/ has no Namespace netlab-system');
      const namespaces = [
        { name: baseline, labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
        { name: likeProbeNamespace, labels: probeNamespace.metadata.labels ?? {} },
      ];
      for (const ns of namespaces) {
        await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: ns });
        // ServiceAccount admission wants the pods' accounts to exist.
        for (const sa of ['default', 'netlab-operator']) await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns.name } });
      }
    });

    test('the operator Deployment\'s pod satisfies the baseline profile', async () => {
      const pod = podFrom('Deployment', 'netlab-operator', baseline);
      await expect(dryCreate(pod).catch((e) => Promise.reject(new Error(apiMessage(e))))).resolves.toMatchObject({ kind: 'Pod' });
    });

    test('the probe DaemonSet\'s pod violates baseline for exactly two reasons: hostNetwork and NET_ADMIN', async () => {
      const pod = podFrom('DaemonSet', 'netlab-probe', baseline);
      const message = await dryCreate(pod).then(
        () => 'admitted',
        (e: unknown) => apiMessage(e),
      );
      const violations = /violates PodSecurity "baseline:latest": (.*)$/.exec(message)?.[1];
      // "reason (detail), reason (detail)", in the API server's order
      expect(violations?.split(/(?<=\)), /).sort()).toEqual([
        'host namespaces (hostNetwork=true)',
        'non-default capabilities (container "probe" must not include "NET_ADMIN" in securityContext.capabilities.add)',
      ]);
    });

    test('the probe\'s pod is admitted in a namespace labelled like netlab-system', async () => {
      const pod = podFrom('DaemonSet', 'netlab-probe', likeProbeNamespace);
      await expect(dryCreate(pod).catch((e) => Promise.reject(new Error(apiMessage(e))))).resolves.toMatchObject({ kind: 'Pod' });
    });
  });
});
