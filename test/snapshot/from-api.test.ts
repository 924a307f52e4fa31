// fetchSnapshot, through netlab's one API client, against a small fake apiserver on 127.0.0.1 (plain HTTP,
// as `kubectl proxy` serves).
// The list bodies below are written by hand in the shape the apiserver returns: typed lists whose
// items carry no apiVersion/kind, `metadata.continue` for paging, and a Status body on errors.
// test/integration/dns.test.ts runs the same function against a real kube-apiserver.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';

type Routes = Record<string, unknown[] | { status: number; body: unknown }>;

interface FakeApi {
  kc: KubeConfig;
  requests: string[];
  authorizations: string[];
  close(): Promise<void>;
}

const listKinds: Record<string, [apiVersion: string, kind: string]> = {
  '/api/v1/nodes': ['v1', 'NodeList'],
  '/api/v1/pods': ['v1', 'PodList'],
  '/api/v1/services': ['v1', 'ServiceList'],
  '/apis/discovery.k8s.io/v1/endpointslices': ['discovery.k8s.io/v1', 'EndpointSliceList'],
  '/api/v1/namespaces': ['v1', 'NamespaceList'],
  '/apis/crd.projectcalico.org/v1/ippools': ['crd.projectcalico.org/v1', 'IPPoolList'],
  '/apis/crd.projectcalico.org/v1/ipamblocks': ['crd.projectcalico.org/v1', 'IPAMBlockList'],
  '/apis/crd.projectcalico.org/v1/blockaffinities': ['crd.projectcalico.org/v1', 'BlockAffinityList'],
};


/** Serves `routes`: a list path answers page by page (`limit` items, `continue` = next offset). */
async function startFakeApi(routes: Routes): Promise<FakeApi> {
  const requests: string[] = [];
  const authorizations: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(`${url.pathname}${url.search}`);
    authorizations.push(req.headers.authorization ?? '');
    const route = routes[url.pathname];
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (route === undefined) {
      // what kube-apiserver answers for a path of an API group it does not serve: plain text, not a Status
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('404 page not found\n');
    }
    if (!Array.isArray(route)) return reply(route.status, route.body);
    const [apiVersion, kind] = listKinds[url.pathname]!;
    const limit = Number(url.searchParams.get('limit'));
    const offset = Number(url.searchParams.get('continue') || 0);
    const next = offset + limit < route.length ? String(offset + limit) : undefined;
    reply(200, { apiVersion, kind, metadata: { resourceVersion: '42', ...(next ? { continue: next } : {}) }, items: route.slice(offset, offset + limit) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node accepts an http:// server only with skipTLSVerify set.
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'reader', token: 'secret-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'reader' }],
    currentContext: 'fake',
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections(); // keep-alive sockets would hold close() open
    });
  return { kc, requests, authorizations, close };
}

const node = { metadata: { name: 'node-1' }, spec: { podCIDR: '10.244.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.5.10' }] } };
const pod = (name: string, ip: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'shop', labels: { app: 'web' }, creationTimestamp: '2026-11-25T10:00:00Z', ...extra },
  spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'web:1' }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
});
const service = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] },
};
const slice = {
  metadata: { name: 'web-abc12', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: [{ addresses: ['10.244.1.5'], conditions: { ready: true }, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'shop', name: 'web-1' } }],
};
const namespaces = ['default', 'kube-system', 'shop'].map((name) => ({ metadata: { name } }));

const baseRoutes = (): Routes => ({
  '/api/v1/nodes': [node],
  '/api/v1/pods': [pod('web-1', '10.244.1.5'), pod('web-2', '10.244.1.6', { deletionTimestamp: '2026-11-25T11:00:00Z' }), pod('web-3', '10.244.1.7')],
  '/api/v1/services': [service],
  '/apis/discovery.k8s.io/v1/endpointslices': [slice],
  '/api/v1/namespaces': namespaces,
});

describe('fetchSnapshot', () => {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  test('lists every kind, pages through continue tokens, and projects the raw JSON', async () => {
    api = await startFakeApi(baseRoutes());
    const snapshot = await fetchSnapshot(api.kc, { pageSize: 2 });

    expect(snapshot.pods.map((p) => [p.name, p.podIPs, p.terminating])).toEqual([
      ['web-1', ['10.244.1.5'], false],
      ['web-2', ['10.244.1.6'], true], // deletionTimestamp read as the API's string
      ['web-3', ['10.244.1.7'], false], // third item: only on the second page
    ]);
    expect(api.requests.filter((r) => r.startsWith('/api/v1/pods'))).toEqual(['/api/v1/pods?limit=2', '/api/v1/pods?limit=2&continue=2']);
    expect(snapshot.services).toMatchObject([{ namespace: 'shop', name: 'web', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', targetPort: 'http' }] }]);
    expect(snapshot.endpointSlices).toMatchObject([{ serviceName: 'web', endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'node-1' }] }]);
    expect(snapshot.nodes).toMatchObject([{ name: 'node-1', podCIDRs: ['10.244.1.0/24'] }]);
    expect(snapshot.namespaces).toEqual(['default', 'kube-system', 'shop']);
    expect(new Set(api.authorizations)).toEqual(new Set(['Bearer secret-token']));
  });

  test('flannel\'s node annotations and Calico\'s pod IP annotations reach the snapshot', async () => {
    const flannelNode = {
      ...node,
      metadata: {
        name: 'node-1',
        annotations: {
          'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"5a:1c:9e:3f:20:01"}',
          'flannel.alpha.coreos.com/backend-type': 'vxlan',
          'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
          'flannel.alpha.coreos.com/public-ip': '192.168.5.10',
        },
      },
    };
    const early = { ...pod('web-9', ''), metadata: { name: 'web-9', namespace: 'shop', annotations: { 'cni.projectcalico.org/podIPs': '10.244.1.9/32' } }, status: { phase: 'Pending' } };
    api = await startFakeApi({ ...baseRoutes(), '/api/v1/nodes': [flannelNode], '/api/v1/pods': [early] });
    const snapshot = await fetchSnapshot(api.kc);
    expect(snapshot.nodes[0]!.flannel).toEqual({ kubeSubnetManager: true, backendType: 'vxlan', publicIP: '192.168.5.10', vni: 1, vtepMAC: '5a:1c:9e:3f:20:01' });
    expect(snapshot.pods[0]).toMatchObject({ podIPs: [], calicoPodIPs: ['10.244.1.9'] });
  });

  test('notes absent Calico CRDs and absent ConfigMaps instead of failing', async () => {
    api = await startFakeApi(baseRoutes());
    const snapshot = await fetchSnapshot(api.kc);
    expect(snapshot.ipPools).toEqual([]);
    expect(snapshot.calicoVersion).toBeNull();
    expect(snapshot.notes).toContain("crd.projectcalico.org/v1 is not served by this apiserver (Calico's CRDs are not installed)");
    expect(snapshot.notes.some((n) => n.startsWith('no ConfigMap kube-system/coredns given'))).toBe(true);
  });

  test('reads Calico objects and the kube-system ConfigMaps when they exist', async () => {
    api = await startFakeApi({
      ...baseRoutes(),
      '/apis/crd.projectcalico.org/v1/ippools': [
        { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '10.244.0.0/16', blockSize: 26, ipipMode: 'Always', vxlanMode: 'Never' } },
      ],
      '/apis/crd.projectcalico.org/v1/ipamblocks': [
        { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMBlock', metadata: { name: '10-244-1-0-26' }, spec: { cidr: '10.244.1.0/26', affinity: 'host:node-1' } },
      ],
      '/apis/crd.projectcalico.org/v1/blockaffinities': [],
      '/apis/crd.projectcalico.org/v1/clusterinformations/default': {
        status: 200,
        body: { apiVersion: 'crd.projectcalico.org/v1', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { calicoVersion: 'v3.32.1', clusterType: 'k8s,kdd', datastoreReady: true } },
      },
      '/api/v1/namespaces/kube-system/configmaps/coredns': {
        status: 200,
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: '.:53 {\n    kubernetes example.test in-addr.arpa ip6.arpa {\n        pods verified\n        ttl 7\n    }\n}\n' } },
      },
    });
    const snapshot = await fetchSnapshot(api.kc);
    expect(snapshot.ipPools).toMatchObject([{ name: 'default-ipv4-ippool', cidr: '10.244.0.0/16', ipipMode: 'Always' }]);
    expect(snapshot.ipamBlocks).toEqual([{ cidr: '10.244.1.0/26', node: 'node-1' }]);
    expect(snapshot.calicoVersion).toEqual({
      where: 'GET /apis/crd.projectcalico.org/v1/clusterinformations/default: ClusterInformation default',
      text: 'v3.32.1',
      release: { major: 3, minor: 32 },
    });
    expect(snapshot.dns).toMatchObject({ clusterDomain: 'example.test', podsMode: 'verified', ttl: 7 });
    expect(snapshot.notes.some((n) => n.includes('crd.projectcalico.org'))).toBe(false);
  });

  test('fails with the request and the apiserver message when a list is forbidden', async () => {
    api = await startFakeApi({
      ...baseRoutes(),
      '/api/v1/pods': { status: 403, body: { kind: 'Status', status: 'Failure', message: 'pods is forbidden: User "reader" cannot list resource "pods"', code: 403 } },
    });
    await expect(fetchSnapshot(api.kc)).rejects.toThrow(
      /^GET \/api\/v1\/pods\?limit=500: 403 Forbidden: pods is forbidden: User "reader" cannot list resource "pods"$/,
    );
  });

  test('names the source of a malformed object', async () => {
    api = await startFakeApi({ ...baseRoutes(), '/api/v1/pods': [pod('web-1', 'not-an-ip')] });
    await expect(fetchSnapshot(api.kc)).rejects.toThrow('GET /api/v1/pods: Pod shop/web-1: status.podIPs[0].ip');
  });
});
