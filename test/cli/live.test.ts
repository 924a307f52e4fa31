// The live commands' clear errors, with the API answered by a fake KubeClient (no cluster needed):
// no CRD, no such lab, no probe pods. The "no cluster" case runs the real command against a closed port.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { probePods, readLabs, type Cluster } from '../../src/cli/commands/live.ts';
import { KubeApiError, type KubeClient } from '../../src/kube/client.ts';

/** A fake API server: a map from GET path to body; anything else is a 404 like the real one gives. */
function fakeCluster(routes: Record<string, unknown>): Cluster {
  const api: KubeClient = {
    async request(method, path) {
      if (method === 'GET' && path in routes) return routes[path];
      throw new KubeApiError(method, path, 404, 'NotFound', 'not found');
    },
  };
  return { kc: new KubeConfig(), api, server: 'https://fake:6443' };
}

const lab = (name: string) => ({ apiVersion: 'netlab.dev/v1alpha1', kind: 'NetworkLab', metadata: { namespace: 'default', name, uid: 'u', generation: 1 }, spec: { checks: ['ipvs'] } });

test('no CRD: says NetworkLab is not installed and how to install it', async () => {
  await expect(readLabs(fakeCluster({}), { lab: 'seed', namespace: 'default' })).rejects.toThrow(/no CRD: NetworkLab \(netlab\.dev\/v1alpha1\) is not installed.*kubectl apply -k manifests/);
});

test('CRD present, lab absent: names the lab', async () => {
  const cluster = fakeCluster({ '/apis/netlab.dev/v1alpha1': { kind: 'APIResourceList' } });
  await expect(readLabs(cluster, { lab: 'nope', namespace: 'team' })).rejects.toThrow('NetworkLab team/nope does not exist');
});

test('--all reads every lab with its spec', async () => {
  const cluster = fakeCluster({ '/apis/netlab.dev/v1alpha1/networklabs': { items: [lab('a'), lab('b')] } });
  const labs = await readLabs(cluster, { all: true, namespace: 'default' });
  expect(labs.map((l) => [l.key, l.spec.checks])).toEqual([['default/a', ['ipvs']], ['default/b', ['ipvs']]]);
});

test('no probe: no ready netlab-probe pod gives one message naming the namespace', async () => {
  const path = '/api/v1/namespaces/netlab-system/pods?labelSelector=app.kubernetes.io%2Fname%3Dnetlab-probe';
  const notReady = { items: [{ metadata: { name: 'p1' }, spec: { nodeName: 'n1' }, status: { phase: 'Pending' } }] };
  await expect(probePods(fakeCluster({ [path]: notReady }))).rejects.toThrow(/no probe: no ready netlab-probe pod in namespace netlab-system/);
  const ready = { items: [{ metadata: { name: 'p1' }, spec: { nodeName: 'n1' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }] };
  expect([...(await probePods(fakeCluster({ [path]: ready })))]).toEqual([['n1', { namespace: 'netlab-system', name: 'p1' }]]);
});

test('no cluster: `netlab check` against a closed port exits 2 naming the server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-live-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {token: t}}]\n');
  const bin = fileURLToPath(new URL('../../bin/netlab.js', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'check', '--kubeconfig', kubeconfig], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/no cluster: cannot reach https:\/\/127\.0\.0\.1:9 \(context "x"\)/);
  const empty = join(dir, 'empty');
  writeFileSync(empty, 'apiVersion: v1\nkind: Config\n');
  const none = spawnSync(process.execPath, [bin, 'check', '--kubeconfig', empty], { encoding: 'utf8', timeout: 60_000 });
  rmSync(dir, { recursive: true, force: true });
  expect(none.status).toBe(2);
  expect(none.stderr).toMatch(/no cluster: .*has no current context/);
});
