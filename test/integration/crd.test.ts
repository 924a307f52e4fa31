// The NetworkLab CRD in the real kube-apiserver of the harness: it installs, fills in the defaults,
// shows the printer columns, and rejects bad specs with the messages written in crds/networklab.yaml.
import { randomBytes } from 'node:crypto';
import { KubeApiError, kubeClient, type KubeClient } from '../../src/kube/client.ts';
import { adminKubeConfig } from '../../harness/control-plane/controlplane.ts';
import { describeReal } from '../harness/require-real.ts';
import { apply, deleteNamespace, installCrd, lab } from '../operator/support.ts';

// Unique per run: the control plane may be a long-running one shared with other runs (npm run harness -- up).
const NS = `crd-${randomBytes(3).toString('hex')}`;

describeReal('NetworkLab CRD in the real API server', (info) => {
  let client: KubeClient;

  beforeAll(async () => {
    client = kubeClient(adminKubeConfig(info));
    await installCrd(client);
    await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });

  afterAll(async () => {
    await deleteNamespace(client, NS);
  });

  async function rejection(name: string, spec: Record<string, unknown>): Promise<string> {
    try {
      await client.request('POST', `/apis/netlab.dev/v1alpha1/namespaces/${NS}/networklabs`, lab(NS, name, spec));
    } catch (error) {
      if (error instanceof KubeApiError && error.statusCode === 422) return error.message;
      throw error;
    }
    throw new Error(`the API server accepted ${JSON.stringify(spec)}`);
  }

  test('an empty spec is accepted and gets the defaults', async () => {
    const created = (await client.request('POST', `/apis/netlab.dev/v1alpha1/namespaces/${NS}/networklabs`, lab(NS, 'defaults', {}))) as { spec: unknown };
    expect(created.spec).toEqual({ checks: ['routes', 'services', 'dns', 'resolvconf'], interval: '60s', gracePeriod: '30s' });
  });

  test('a full spec is accepted as written (DNS query type defaults to A)', async () => {
    const spec = {
      checks: ['ipvs', 'dns'],
      nodeSelector: { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }] },
      services: { namespaces: ['default', 'kube-system'], selector: { matchLabels: { app: 'web' } } },
      dnsQueries: [
        { name: 'kube-dns.kube-system.svc.cluster.local', expect: ['10.96.0.10'] },
        { name: '_dns._udp.kube-dns.kube-system.svc.cluster.local', type: 'SRV', expect: ['0 100 53 kube-dns.kube-system.svc.cluster.local'] },
        { name: '10.0.96.10.in-addr.arpa', type: 'PTR' },
      ],
      interval: '1h30m',
      gracePeriod: '0s',
    };
    const created = (await client.request('POST', `/apis/netlab.dev/v1alpha1/namespaces/${NS}/networklabs`, lab(NS, 'full', spec))) as { spec: { dnsQueries: { type: string }[] } };
    expect(created.spec.dnsQueries.map((q) => q.type)).toEqual(['A', 'SRV', 'PTR']);
  });

  test.each([
    ['unknown-layer', { checks: ['routes', 'ebpf'] }, 'spec.checks[1]: Unsupported value: "ebpf"'],
    ['two-proxy-modes', { checks: ['ipvs', 'nftables'] }, 'checks names at most one of services, ipvs, nftables and iptables'],
    ['services-and-a-mode', { checks: ['services', 'iptables'] }, 'checks names at most one of services, ipvs, nftables and iptables'],
    ['repeated-layer', { checks: ['dns', 'dns'] }, 'spec.checks[1]: Duplicate value: "dns"'],
    ['no-layer', { checks: [] }, 'spec.checks: Invalid value: 0: spec.checks in body should have at least 1 items'],
    ['too-often', { interval: '5s' }, 'spec.interval: Invalid value: "5s": interval must be between 10s and 24h'],
    ['too-rare', { interval: '48h' }, 'interval must be between 10s and 24h'],
    ['not-a-duration', { interval: 'often' }, 'spec.interval in body should match'],
    ['long-grace', { gracePeriod: '1h' }, 'gracePeriod must be between 0s and 10m'],
    ['mx-query', { dnsQueries: [{ name: 'example.com', type: 'MX' }] }, 'spec.dnsQueries[0].type: Unsupported value: "MX"'],
    ['forward-ptr', { dnsQueries: [{ name: 'kube-dns.kube-system.svc.cluster.local', type: 'PTR' }] }, 'a PTR query asks for a reverse name ending in .in-addr.arpa or .ip6.arpa'],
    ['a-not-ip', { dnsQueries: [{ name: 'web.default.svc.cluster.local', expect: ['web'] }] }, 'expected answers of an A query must be IPv4 addresses'],
    ['aaaa-v4', { dnsQueries: [{ name: 'web.default.svc.cluster.local', type: 'AAAA', expect: ['10.96.0.20'] }] }, 'expected answers of an AAAA query must be IPv6 addresses'],
    ['srv-shape', { dnsQueries: [{ name: '_http._tcp.web.default.svc.cluster.local', type: 'SRV', expect: ['web:80'] }] }, 'expected answers of an SRV query are "priority weight port target"'],
    ['same-query-twice', { dnsQueries: [{ name: 'a.b', type: 'A' }, { name: 'a.b' }] }, 'spec.dnsQueries[1]: Duplicate value'],
    ['in-without-values', { nodeSelector: { matchExpressions: [{ key: 'zone', operator: 'In' }] } }, 'operators In and NotIn need at least one value'],
    ['exists-with-values', { nodeSelector: { matchExpressions: [{ key: 'zone', operator: 'Exists', values: ['a'] }] } }, 'operators Exists and DoesNotExist take no values'],
    ['bad-namespace', { services: { namespaces: ['Team_A'] } }, 'spec.services.namespaces[0] in body should match'],
  ])('rejects %s with a clear message', async (name, spec, message) => {
    expect(await rejection(name, spec)).toContain(message);
  });

  test('the status subresource takes status only; its schema is enforced too', async () => {
    const base = `/apis/netlab.dev/v1alpha1/namespaces/${NS}/networklabs/status-check`;
    const created = (await client.request('POST', `/apis/netlab.dev/v1alpha1/namespaces/${NS}/networklabs`, lab(NS, 'status-check', {}))) as {
      metadata: { resourceVersion: string };
    };
    const condition = { type: 'Ready', status: 'True', reason: 'AllVerified', message: 'ok', lastTransitionTime: '2026-11-25T12:00:00Z', observedGeneration: 1 };
    const updated = (await client.request('PUT', `${base}/status`, {
      ...lab(NS, 'status-check', { interval: '10m' }),
      metadata: { name: 'status-check', namespace: NS, resourceVersion: created.metadata.resourceVersion },
      status: { observedGeneration: 1, conditions: [condition] },
    })) as { spec: { interval: string }; status: { conditions: unknown[] }; metadata: { resourceVersion: string } };
    expect(updated.spec.interval).toBe('60s'); // a status write cannot change the spec
    expect(updated.status.conditions).toEqual([condition]);
    await expect(
      client.request('PUT', `${base}/status`, {
        ...lab(NS, 'status-check', {}),
        metadata: { name: 'status-check', namespace: NS, resourceVersion: updated.metadata.resourceVersion },
        status: { conditions: [{ ...condition, status: 'Maybe' }] },
      }),
    ).rejects.toThrow('Unsupported value: "Maybe"');
  });

  test('kubectl get shows ROUTES, PROXY, SERVICES, DNS, READY and AGE; PROXY and SERVICES come from status.serviceLayer', async () => {
    const created = (await client.request('POST', `/apis/netlab.dev/v1alpha1/namespaces/${NS}/networklabs`, lab(NS, 'columns', { checks: ['services'] }))) as { metadata: { resourceVersion: string } };
    const condition = { type: 'NFTablesVerified', status: 'False', reason: 'Mismatched', message: '1 difference', lastTransitionTime: '2026-11-25T12:00:00Z', observedGeneration: 1 };
    await client.request('PUT', `/apis/netlab.dev/v1alpha1/namespaces/${NS}/networklabs/columns/status`, {
      ...lab(NS, 'columns', { checks: ['services'] }),
      metadata: { name: 'columns', namespace: NS, resourceVersion: created.metadata.resourceVersion },
      status: { observedGeneration: 1, conditions: [condition], serviceLayer: { mode: 'nftables', status: 'False' } },
    });
    const table = (await client.request('GET', `/apis/netlab.dev/v1alpha1/namespaces/${NS}/networklabs/columns`, undefined, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    })) as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] };
    const shown = table.columnDefinitions.flatMap((c, i) => (c.priority === 0 ? [[c.name.toUpperCase(), table.rows[0]!.cells[i]]] : []));
    expect(shown.map(([name]) => name)).toEqual(['NAME', 'ROUTES', 'PROXY', 'SERVICES', 'DNS', 'READY', 'AGE']);
    expect(Object.fromEntries(shown)).toMatchObject({ NAME: 'columns', PROXY: 'nftables', SERVICES: 'False' });
  });
});
