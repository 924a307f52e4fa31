// The deployable YAML read as data: kustomize layout, least-privilege RBAC, the hardening of the
// operator and the probe, the CRD's printer columns and defaults, and sample labs the operator accepts.
// (The real API server's verdict on the CRD is in test/integration/crd.test.ts.)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ALL_LAYERS, CHECK_NAMES, SERVICE_LAYERS } from '../../src/check/check.ts';
import { readLab } from '../../src/operator/lab.ts';
import { CONDITION_TYPES } from '../../src/operator/status.ts';

const root = path.resolve(import.meta.dirname, '../..');
type Doc = Record<string, any>;

function load(file: string): Doc[] {
  return parseAllDocuments(readFileSync(path.join(root, file), 'utf8')).map((d) => d.toJS() as Doc).filter((d) => d !== null);
}

/** Follows a kustomization's resources the way kustomize does: files, or directories with their own kustomization.yaml. */
function kustomize(dir: string): Doc[] {
  const [k] = load(path.join(dir, 'kustomization.yaml'));
  return (k!.resources as string[]).flatMap((resource) => {
    const target = path.join(dir, resource);
    if (existsSync(path.join(root, target, 'kustomization.yaml'))) return kustomize(target);
    // kustomize refuses a file outside the kustomization's directory; only directories may climb out.
    expect(path.relative(dir, target).startsWith('..')).toBe(false);
    return load(target);
  });
}

const operatorDocs = kustomize('manifests/operator');
const byKind = (kind: string) => operatorDocs.filter((d) => d.kind === kind);
const one = (kind: string, name: string) => operatorDocs.find((d) => d.kind === kind && d.metadata.name === name)!;

test('manifests/operator installs the CRD from crds/ (its only copy), the namespace, RBAC, operator and probe', () => {
  expect(operatorDocs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual(
    [
      'ClusterRole/netlab-operator',
      'ClusterRoleBinding/netlab-operator',
      'CustomResourceDefinition/networklabs.netlab.dev',
      'DaemonSet/netlab-probe',
      'Deployment/netlab-operator',
      'Namespace/netlab-system',
      'Role/netlab-operator',
      'Role/netlab-operator-config-reader',
      'RoleBinding/netlab-operator',
      'RoleBinding/netlab-operator-config-reader',
      'Service/netlab-operator-metrics',
      'ServiceAccount/netlab-operator',
    ].sort(),
  );
  expect(one('CustomResourceDefinition', 'networklabs.netlab.dev')).toEqual(load('crds/networklab.yaml')[0]);
});

test('kubectl kustomize builds manifests/ (skipped without kubectl)', () => {
  let kubectl = true;
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
  } catch {
    kubectl = false;
  }
  if (!kubectl) return void process.stderr.write('kubectl not found: kustomize build not checked\n');
  const built = parseAllDocuments(execFileSync('kubectl', ['kustomize', path.join(root, 'manifests')], { encoding: 'utf8' })).map((d) => d.toJS() as Doc);
  expect(built.filter((d) => d.kind === 'CustomResourceDefinition')).toHaveLength(1);
  expect(built.filter((d) => d.kind === 'NetworkLab').length).toBeGreaterThanOrEqual(3);
});

test('RBAC: reads cluster-wide, writes only lab status and Events; exec and Leases only in netlab-system', () => {
  const writeVerbs = ['create', 'update', 'patch', 'delete', 'deletecollection', '*'];
  const clusterRules = one('ClusterRole', 'netlab-operator').rules as Doc[];
  for (const rule of clusterRules) {
    expect(rule.verbs).not.toContain('*');
    expect(rule.resources).not.toContain('*');
    expect(rule.resources).not.toContain('pods/exec');
    expect(rule.resources).not.toContain('secrets');
    const writes = rule.verbs.filter((v: string) => writeVerbs.includes(v));
    if (writes.length > 0) for (const resource of rule.resources) expect(['events', 'networklabs/status']).toContain(resource);
  }
  // Of Calico's objects beyond IPAM, only the ClusterInformation named default (the operator watches it by name).
  expect(clusterRules.filter((rule) => rule.resources.includes('clusterinformations'))).toEqual([
    { apiGroups: ['crd.projectcalico.org'], resources: ['clusterinformations'], resourceNames: ['default'], verbs: ['get', 'list', 'watch'] },
  ]);
  const ownRole = one('Role', 'netlab-operator');
  expect(ownRole.metadata.namespace).toBe('netlab-system');
  expect(ownRole.rules).toEqual([
    { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
  ]);
  const configReader = one('Role', 'netlab-operator-config-reader');
  expect(configReader.metadata.namespace).toBe('kube-system');
  expect(configReader.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['kube-proxy', 'coredns'], verbs: ['get', 'list', 'watch'] }]);
  for (const binding of [...byKind('RoleBinding'), ...byKind('ClusterRoleBinding')]) {
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'netlab-operator', namespace: 'netlab-system' }]);
  }
});

test('the operator runs as non-root with a read-only root filesystem, resources, probes and two replicas', () => {
  const deployment = one('Deployment', 'netlab-operator');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  expect(deployment.spec.replicas).toBe(2);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
  expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  expect(container.resources.requests).toBeDefined();
  expect(container.resources.limits).toBeDefined();
  expect(container.livenessProbe.httpGet.path).toBe('/healthz');
  // a slow start must not be taken for a dead process: liveness waits for the startup probe's minutes
  expect(container.startupProbe.httpGet.path).toBe('/healthz');
  expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBeGreaterThanOrEqual(300);
  expect(container.readinessProbe.httpGet.path).toBe('/readyz');
  // a busy event loop is not a dead one: every probe waits longer than the kubelet's default second
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(container[probe].timeoutSeconds).toBeGreaterThanOrEqual(5);
  expect(container.args).toEqual(expect.arrayContaining(['--leader-election-id=netlab-operator', '--metrics-port=8080']));
});

test("the operator's V8 heap is capped well below its memory limit, so V8 collects before the kernel kills it", () => {
  const container = one('Deployment', 'netlab-operator').spec.template.spec.containers[0];
  const limit = /^(\d+)Mi$/.exec(container.resources.limits.memory);
  const cap = /--max-old-space-size=(\d+)/.exec(container.env.find((e: Doc) => e.name === 'NODE_OPTIONS')?.value ?? '');
  expect(limit).not.toBeNull();
  expect(cap).not.toBeNull();
  // the rest (young generation, code, buffers): in a 256 MiB cgroup here, a churning test load with the 160 MiB cap
  // peaked at 224 MiB, and at 252 MiB without it
  expect(Number(cap![1]) + 96).toBeLessThanOrEqual(Number(limit![1]));
});

test('the probe has hostNetwork, only NET_ADMIN, a read-only root filesystem, limits, and runs on every node', () => {
  const pod = one('DaemonSet', 'netlab-probe').spec.template.spec;
  const container = pod.containers[0];
  expect(pod.hostNetwork).toBe(true);
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(container.name).toBe('probe');
  expect(container.image).toMatch(/^netlab-probe:/);
  expect(container.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } });
  // memory is capped; CPU is not (a quota throttles the runc each exec starts in the probe's cgroup)
  expect(container.resources.limits).toEqual({ memory: expect.any(String) });
  expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
  expect(one('DaemonSet', 'netlab-probe').metadata.labels['app.kubernetes.io/name']).toBe('netlab-probe');
});

test('the CRD: printer columns, short name, status subresource and the spec defaults', () => {
  const crd = load('crds/networklab.yaml')[0]!;
  const version = crd.spec.versions[0];
  expect(crd.spec.names.shortNames).toEqual(['nlab']);
  expect(version.subresources).toEqual({ status: {} });
  expect(version.additionalPrinterColumns.filter((c: Doc) => !c.priority).map((c: Doc) => c.name.toUpperCase())).toEqual(['ROUTES', 'PROXY', 'SERVICES', 'DNS', 'READY', 'AGE']);
  const spec = version.schema.openAPIV3Schema.properties.spec.properties;
  expect(spec.checks.default).toEqual(['routes', 'services', 'dns', 'resolvconf']);
  expect(readLab({ metadata: { namespace: 'a', name: 'b' }, spec: {} }).spec.checks).toEqual(spec.checks.default);
  expect(spec.interval.default).toBe('60s');
  expect(spec.gracePeriod.default).toBe('30s');
  expect(version.schema.openAPIV3Schema.properties.status.properties.findings.maxItems).toBe(50);
});

test('the CRD and the operator accept the same check names, and name the same conditions and status fields', () => {
  const crd = load('crds/networklab.yaml')[0]!;
  const version = crd.spec.versions[0];
  const schema = version.schema.openAPIV3Schema.properties;
  expect(schema.spec.properties.checks.items.enum).toEqual(CHECK_NAMES);
  expect(Object.keys(schema.status.properties.layers.properties)).toEqual(ALL_LAYERS);
  expect(schema.status.properties.findings.items.properties.layer.enum).toEqual(ALL_LAYERS);
  expect(schema.status.properties.serviceLayer.properties.mode.enum).toEqual(SERVICE_LAYERS);
  // the columns read the fields buildStatus writes
  const columns = Object.fromEntries(version.additionalPrinterColumns.map((c: Doc) => [c.name, c.jsonPath]));
  expect(columns).toMatchObject({ Proxy: '.status.serviceLayer.mode', Services: '.status.serviceLayer.status', Routes: `.status.conditions[?(@.type=="${CONDITION_TYPES.routes}")].status` });
});

test('every sample NetworkLab is accepted by the operator', () => {
  const labs = kustomize('manifests/samples').filter((d) => d.kind === 'NetworkLab');
  expect(labs.map((l) => l.metadata.name).sort()).toEqual(['headless-pod-dns', 'seed-walkthrough', 'session-affinity']);
  for (const lab of labs) expect(() => readLab(lab)).not.toThrow();
});
