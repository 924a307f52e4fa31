// manifests/ as `kubectl apply -k manifests/` sees it, checked offline: every file is reachable, every object
// is unique, and what lab up builds is what the manifests run. The server-side dry run of the same objects
// is test/integration/manifests-dryrun.test.ts.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { LAB } from '../../src/lab/lab.ts';
import { loadKustomization, objectId, PROJECT_ROOT, type ManifestObject } from './manifest-set.ts';

const objects = loadKustomization(join(PROJECT_ROOT, LAB.manifests));
const byId = new Map(objects.map(({ object }) => [objectId(object), object]));

function yamlFiles(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml'))
    .map((f) => join(dir, f));
}

interface PodTemplateOwner extends ManifestObject {
  spec: { template: { spec: { containers: { name: string; image: string; imagePullPolicy?: string }[] } } };
}

describe('manifests/ (offline)', () => {
  test('every object is listed once', () => {
    expect(objects.length).toBeGreaterThan(0);
    expect(byId.size).toBe(objects.length);
  });

  test('every manifest file of netlab (crds/ and manifests/, Calico apart) is reachable from manifests/kustomization.yaml', () => {
    const reached = new Set(objects.map((o) => o.source));
    const files = [...yamlFiles('crds'), ...yamlFiles('manifests').filter((f) => !f.startsWith(join('manifests', 'calico')))];
    expect(files.filter((f) => !reached.has(f))).toEqual([]);
  });

  test('the CRD, the namespace and the workloads lab up waits for are the ones the manifests define', () => {
    expect(byId.has(`CustomResourceDefinition ${LAB.crd}`)).toBe(true);
    expect(byId.has(`Namespace ${LAB.namespace}`)).toBe(true);
    for (const image of LAB.images) {
      const [resource, name] = image.workload.split('/');
      const kind = { 'deployment.apps': 'Deployment', 'daemonset.apps': 'DaemonSet' }[resource!];
      const workload = byId.get(`${kind} ${LAB.namespace}/${name}`) as PodTemplateOwner | undefined;
      expect(workload).toBeDefined();
      // lab up builds and `kind load`s this image: the manifest must run it and never try to pull it
      const containers = workload!.spec.template.spec.containers;
      expect(containers.map((c) => c.image)).toEqual([image.name]);
      expect(containers.map((c) => c.imagePullPolicy)).toEqual([expect.stringMatching(/^(IfNotPresent|Never)$/)]);
    }
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  (kubectl.status === 0 ? test : test.skip)('kubectl kustomize renders the same objects (layout check with the real kustomize)', () => {
    const rendered = spawnSync('kubectl', ['kustomize', LAB.manifests], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(rendered.stderr).toBe('');
    const ids = parseAllDocuments(rendered.stdout).map((doc) => objectId(doc.toJS() as ManifestObject));
    expect(ids.sort()).toEqual([...byId.keys()].sort());
  });
  if (kubectl.status !== 0) process.stderr.write('kubectl kustomize check skipped: kubectl is not on PATH (the offline checks above still ran)\n');
});
