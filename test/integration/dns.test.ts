// The DNS model against real CoreDNS (kubernetes plugin) fed by a real kube-apiserver and
// kube-controller-manager (harness/control-plane). The test creates Services and Pods, marks Pods Running/Ready
// the way a kubelet would, waits for the controller's EndpointSlices, takes a snapshot from the API,
// and asks CoreDNS every question the model has an answer for, over UDP and over TCP.
// When CoreDNS and the model disagree, the model is wrong: the failure lists each disagreement.
import { randomBytes } from 'node:crypto';
import { expectedDns, dnsExpectationFor } from '../../src/model/dns/index.ts';
import type { DnsAnswer, DnsQuery } from '../../src/model/types.ts';
import { createDnsProber } from '../../src/observe/dns.ts';
import type { DnsServer } from '../../src/observe/dns.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { clientsFor, createNamespace, createNode, createPod, readyAddresses, waitFor, waitForEndpointSlices } from '../../harness/control-plane/cluster.ts';
import type { Clients, PodFixture } from '../../harness/control-plane/cluster.ts';
import { startExtraCoreDns } from '../../harness/control-plane/controlplane.ts';
import type { ExtraCoreDns } from '../../harness/control-plane/controlplane.ts';
import { describeReal } from '../harness/require-real.ts';

// Pod addresses from a range no other suite uses, so PTR answers cannot pick up their endpoints.
const NODE = { name: 'dns-test-node', internalIP: '192.168.250.11' };
const run = randomBytes(2).toString('hex'); // unique namespaces, so a reused control plane works too
const ns = `dns-${run}`;
const other = `dns-${run}-other`;

const httpPorts = [
  { name: 'http', containerPort: 8080 },
  { name: 'metrics', containerPort: 9090 },
];

function pod(namespace: string, name: string, ip: string, extra: Partial<PodFixture> = {}): PodFixture {
  return { namespace, name, nodeName: NODE.name, hostIP: NODE.internalIP, podIPs: [ip], ...extra };
}

const pods: PodFixture[] = [
  pod(ns, 'web-1', '10.250.1.11', { labels: { app: 'web' }, ports: httpPorts }),
  pod(ns, 'web-2', '10.250.1.12', { labels: { app: 'web' }, ports: httpPorts }),
  pod(ns, 'web-3', '10.250.1.13', { labels: { app: 'web' }, ports: httpPorts, ready: false }),
  // StatefulSet-like: hostname + subdomain naming the headless Service
  pod(ns, 'db-0', '10.250.2.10', { labels: { app: 'db' }, hostname: 'db-0', subdomain: 'db', ports: [{ name: 'pg', containerPort: 5432 }] }),
  pod(ns, 'db-1', '10.250.2.11', { labels: { app: 'db' }, hostname: 'db-1', subdomain: 'db', ports: [{ name: 'pg', containerPort: 5432 }] }),
  // publishNotReadyAddresses: the not-ready peer is published too
  pod(ns, 'peer-0', '10.250.3.10', { labels: { app: 'peer' }, hostname: 'peer-0', subdomain: 'peers' }),
  pod(ns, 'peer-1', '10.250.3.11', { labels: { app: 'peer' }, hostname: 'peer-1', subdomain: 'peers', ready: false }),
  // a headless Service whose only pod is not ready
  pod(ns, 'lonely-0', '10.250.4.10', { labels: { app: 'lonely' }, ready: false }),
  // hostname + subdomain that names no Service: no DNS name
  pod(ns, 'solo', '10.250.5.10', { labels: { app: 'solo' }, hostname: 'solo', subdomain: 'nowhere' }),
  pod(other, 'web-1', '10.250.6.11', { labels: { app: 'web' }, ports: httpPorts }),
];

const tcp = (name: string, port: number, targetPort: number | string) => ({ name, port, targetPort, protocol: 'TCP' });

const services = [
  { namespace: ns, name: 'web', spec: { selector: { app: 'web' }, ports: [tcp('http', 80, 'http')] } },
  {
    namespace: ns,
    name: 'dual',
    spec: { selector: { app: 'web' }, ports: [tcp('http', 80, 8080), tcp('metrics', 9100, 9090)] },
  },
  { namespace: ns, name: 'mixed', spec: { selector: { app: 'web' }, ports: [tcp('dns-tcp', 53, 8053), { name: 'dns', port: 53, targetPort: 8053, protocol: 'UDP' }] } },
  { namespace: ns, name: 'unnamed', spec: { selector: { app: 'web' }, ports: [{ port: 8000, targetPort: 8080, protocol: 'TCP' }] } },
  { namespace: ns, name: 'noendpoints', spec: { selector: { app: 'nothing' }, ports: [tcp('http', 80, 8080)] } },
  { namespace: ns, name: 'db', spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [tcp('pg', 5432, 'pg')] } },
  { namespace: ns, name: 'peers', spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'peer' }, ports: [tcp('gossip', 7946, 7946)] } },
  { namespace: ns, name: 'lonely', spec: { clusterIP: 'None', selector: { app: 'lonely' }, ports: [tcp('http', 80, 80)] } },
  { namespace: ns, name: 'ext', spec: { type: 'ExternalName', externalName: 'backend.example.org' } },
  { namespace: ns, name: 'ext-internal', spec: { type: 'ExternalName', externalName: `web.${ns}.svc.cluster.local` } },
  { namespace: other, name: 'web', spec: { selector: { app: 'web' }, ports: [tcp('http', 80, 'http')] } },
];

/** Ready addresses each selector Service must reach before CoreDNS is asked anything. */
const expectedEndpoints: Record<string, string[]> = {
  [`${ns}/web`]: ['10.250.1.11', '10.250.1.12'],
  [`${ns}/dual`]: ['10.250.1.11', '10.250.1.12'],
  [`${ns}/mixed`]: ['10.250.1.11', '10.250.1.12'],
  [`${ns}/unnamed`]: ['10.250.1.11', '10.250.1.12'],
  [`${ns}/db`]: ['10.250.2.10', '10.250.2.11'],
  [`${ns}/peers`]: ['10.250.3.10', '10.250.3.11'],
  [`${other}/web`]: ['10.250.6.11'],
};

/** Questions beyond the model's own list (expectedDns), for cases it does not ask about by itself. */
const extraQueries = (zone: string): DnsQuery[] => [
  { name: `solo.nowhere.${ns}.svc.${zone}`, type: 'A' }, // subdomain without a Service
  { name: `web-3.web.${ns}.svc.${zone}`, type: 'A' }, // not-ready pod of a ClusterIP Service
  { name: `peer-1.peers.${ns}.svc.${zone}`, type: 'A' }, // not ready, but published
  { name: `db.${ns}.svc.${zone}`, type: 'SRV' }, // bare SRV of a headless Service
  { name: `unnamed.${ns}.svc.${zone}`, type: 'SRV' }, // bare SRV: unnamed ports too
  { name: `_http._udp.web.${ns}.svc.${zone}`, type: 'SRV' }, // wrong protocol
  { name: `ext.${ns}.svc.${zone}`, type: 'A' }, // ExternalName outside the zone
  { name: `ext-internal.${ns}.svc.${zone}`, type: 'A' }, // ExternalName inside the zone
  { name: `WEB.${ns.toUpperCase()}.svc.${zone}`, type: 'A' }, // case does not matter
  { name: `dns-version.${zone}`, type: 'TXT' },
  { name: `kubernetes.default.svc.${zone}`, type: 'A' },
  { name: `kube-dns.kube-system.svc.${zone}`, type: 'A' },
  { name: `_dns._udp.kube-dns.kube-system.svc.${zone}`, type: 'SRV' },
  { name: `10-250-1-11.${ns}.pod.${zone}`, type: 'A' },
  { name: `${ns}.svc.${zone}`, type: 'A' },
];

interface Disagreement {
  query: string;
  transport: 'udp' | 'tcp';
  model: string;
  coredns: string;
  why: string;
}

function answerText(answer: DnsAnswer): string {
  const records = [...new Set(answer.answers.map((r) => `${r.name} ${r.type} ${r.data}`))].sort();
  return `${answer.rcode}${answer.partial ? ' (partial)' : ''}${records.length ? `: ${records.join(' | ')}` : ''}`;
}

/** Same rcode, and the same records as sets; a partial expectation only needs its records present. */
function agrees(expect: DnsAnswer, got: DnsAnswer): boolean {
  if (expect.rcode !== got.rcode) return false;
  const key = (r: { name: string; type: string; data: string }) => `${r.name} ${r.type} ${r.data}`;
  const want = new Set(expect.answers.map(key));
  const have = new Set(got.answers.map(key));
  const present = [...want].every((r) => have.has(r));
  return expect.partial ? present : present && want.size === have.size;
}

describeReal('the DNS model against CoreDNS (real components)', (info) => {
  const c: Clients = clientsFor(info.kubeconfig);
  const prober = createDnsProber({ timeoutMs: 3000 });
  const server = (transport: 'udp' | 'tcp'): DnsServer => ({ ...info.dns, transport });
  let snapshot: ClusterSnapshot;
  const clusterIPs = new Map<string, string[]>();

  beforeAll(async () => {
    await createNode(c, NODE).catch((err) => {
      if (err?.code !== 409) throw err; // a reused control plane already has it
    });
    await Promise.all([ns, other].map((name) => createNamespace(c, name)));
    for (const s of services) {
      const created = await c.core.createNamespacedService({ namespace: s.namespace, body: { metadata: { name: s.name }, spec: s.spec } });
      clusterIPs.set(`${s.namespace}/${s.name}`, created.spec?.clusterIPs ?? []);
    }
    for (const p of pods) await createPod(c, p);
    for (const [key, addresses] of Object.entries(expectedEndpoints)) {
      const [namespace, name] = key.split('/') as [string, string];
      await waitForEndpointSlices(c, namespace, name, (slices) => readyAddresses(slices).join() === addresses.join());
    }
    // CoreDNS watches the API: wait until it has seen the last slices before asking it anything.
    await waitFor('CoreDNS to serve the peers endpoints', async () => {
      const answer = await prober.query({ name: `peers.${ns}.svc.${info.clusterDomain}`, type: 'A' }, server('udp'));
      return answer.answers.length === 2;
    });
    await waitFor('CoreDNS to serve the other namespace', async () => {
      const answer = await prober.query({ name: `10-250-6-11.web.${other}.svc.${info.clusterDomain}`, type: 'A' }, server('udp'));
      return answer.rcode === 'NOERROR' && answer.answers.length === 1;
    });
    snapshot = await fetchSnapshot(c.kc);
  }, 120_000);

  test('the snapshot taken from the API holds the objects as the API stores them', () => {
    const mine = snapshot.services.filter((s) => s.namespace === ns || s.namespace === other);
    expect(mine.map((s) => `${s.namespace}/${s.name}`).sort()).toEqual(services.map((s) => `${s.namespace}/${s.name}`).sort());
    for (const s of mine) expect(s.clusterIPs).toEqual(clusterIPs.get(`${s.namespace}/${s.name}`)?.filter((ip) => ip !== 'None'));
    expect(snapshot.services.find((s) => s.name === 'peers' && s.namespace === ns)).toMatchObject({ headless: true, publishNotReadyAddresses: true });
    expect(snapshot.services.find((s) => s.name === 'ext' && s.namespace === ns)).toMatchObject({ type: 'ExternalName', externalName: 'backend.example.org' });
    const db = snapshot.endpointSlices.filter((s) => s.namespace === ns && s.serviceName === 'db').flatMap((s) => s.endpoints);
    expect(db.map((e) => [e.addresses[0], e.hostname, e.ready, e.nodeName]).sort()).toEqual([
      ['10.250.2.10', 'db-0', true, NODE.name],
      ['10.250.2.11', 'db-1', true, NODE.name],
    ]);
    expect(snapshot.pods.find((p) => p.namespace === ns && p.name === 'web-3')).toMatchObject({ ready: false, phase: 'Running', podIPs: ['10.250.1.13'] });
    expect(snapshot.dns).toEqual({ clusterDomain: info.clusterDomain, serviceIPs: [info.dnsServiceIP], podsMode: 'insecure', ttl: 30 });
  });

  test('CoreDNS gives every answer the model expects, over UDP and over TCP', async () => {
    const zone = snapshot.dns.clusterDomain;
    // The extra questions go out as written (upper case included); the model's copy is normalized.
    const asked = [
      ...expectedDns(snapshot, { namespaces: [ns, other] }).map((expectation) => ({ sent: expectation.query, expectation })),
      ...extraQueries(zone).map((sent) => ({ sent, expectation: dnsExpectationFor(snapshot, sent) })),
    ];
    const expectations = asked.map((a) => a.expectation);
    // Sanity: the list covers every kind of answer this test set up.
    const types = new Set(expectations.map((e) => e.query.type));
    expect([...types].sort()).toEqual(['A', 'AAAA', 'CNAME', 'PTR', 'SRV', 'TXT']);
    expect(expectations.some((e) => e.expect.rcode === 'NXDOMAIN')).toBe(true);

    const disagreements: Disagreement[] = [];
    const answers = new Map<string, string>();
    for (const { sent, expectation: e } of asked) {
      for (const transport of ['udp', 'tcp'] as const) {
        const got = await prober.query(sent, server(transport));
        const query = `${e.query.type} ${e.query.name}`;
        answers.set(`${query} ${transport}`, answerText(got));
        if (!agrees(e.expect, got)) disagreements.push({ query, transport, model: answerText(e.expect), coredns: answerText(got), why: e.why });
      }
    }
    // UDP and TCP must tell the same story.
    for (const e of expectations) {
      const query = `${e.query.type} ${e.query.name}`;
      expect(`${query}: ${answers.get(`${query} udp`)}`).toBe(`${query}: ${answers.get(`${query} tcp`)}`);
    }
    expect(disagreements).toEqual([]);
  }, 120_000);
});

// Pod names (`<dashed ip>.<ns>.pod.<zone>`) in both pods modes: the shared CoreDNS runs `pods insecure`, a
// second one started here runs `pods verified` against the same apiserver. Point 9 of issue 10: verified
// compares the label as written with the pod's IP text, so another spelling of the same address is NXDOMAIN.
describeReal('pod names against CoreDNS in pods insecure and pods verified mode (real components)', (info) => {
  const c: Clients = clientsFor(info.kubeconfig);
  const prober = createDnsProber({ timeoutMs: 3000 });
  const podsNs = `dns-${run}-pods`;
  const PODS_NODE = { name: 'dns-pods-node', internalIP: '192.168.250.12' };
  let verified: ExtraCoreDns | null = null;
  let snapshot: ClusterSnapshot;

  beforeAll(async () => {
    await createNode(c, PODS_NODE).catch((err) => {
      if (err?.code !== 409) throw err;
    });
    await createNamespace(c, podsNs);
    await createPod(c, { namespace: podsNs, name: 'v4', nodeName: PODS_NODE.name, hostIP: PODS_NODE.internalIP, podIPs: ['10.250.7.10'] });
    await createPod(c, { namespace: podsNs, name: 'v6', nodeName: PODS_NODE.name, hostIP: PODS_NODE.internalIP, podIPs: ['fd00:250:7::10'] });
    verified = await startExtraCoreDns(info, 'verified');
    const zone = info.clusterDomain;
    // both servers watch the API: wait until each has seen the IPv6 pod (verified answers it only then)
    for (const dns of [info.dns, verified.dns]) {
      await waitFor(`CoreDNS ${dns.port} to see the pods`, async () => {
        const answer = await prober.query({ name: `fd00-250-7--10.${podsNs}.pod.${zone}`, type: 'AAAA' }, { ...dns, transport: 'udp' });
        return answer.rcode === 'NOERROR' && answer.answers.length === 1;
      });
    }
    snapshot = await fetchSnapshot(c.kc);
  }, 120_000);

  afterAll(async () => {
    await verified?.stop();
  });

  const labels = (zone: string): { query: DnsQuery; insecure: string; verified: string }[] => [
    { query: { name: `10-250-7-10.${podsNs}.pod.${zone}`, type: 'A' }, insecure: 'NOERROR', verified: 'NOERROR' },
    // leading zeros: Go's ParseIP refuses them, and the text differs from the pod's
    { query: { name: `010-250-007-010.${podsNs}.pod.${zone}`, type: 'A' }, insecure: 'NXDOMAIN', verified: 'NXDOMAIN' },
    { query: { name: `fd00-250-7--10.${podsNs}.pod.${zone}`, type: 'AAAA' }, insecure: 'NOERROR', verified: 'NOERROR' },
    // the same address written out in full: insecure answers it, verified compares the text and does not
    { query: { name: `fd00-250-7-0-0-0-0-10.${podsNs}.pod.${zone}`, type: 'AAAA' }, insecure: 'NOERROR', verified: 'NXDOMAIN' },
    // three dashes and no "--" reads as IPv4 ("fd00.250.7.10"): no address at all
    { query: { name: `fd00-250-7-10.${podsNs}.pod.${zone}`, type: 'AAAA' }, insecure: 'NXDOMAIN', verified: 'NXDOMAIN' },
    // no pod has this address: only insecure answers
    { query: { name: `10-250-7-99.${podsNs}.pod.${zone}`, type: 'A' }, insecure: 'NOERROR', verified: 'NXDOMAIN' },
  ];

  test.each(['insecure', 'verified'] as const)('pods %s: CoreDNS answers each spelling as the model says', async (mode) => {
    const server = mode === 'insecure' ? info.dns : verified!.dns;
    const modeSnapshot: ClusterSnapshot = { ...snapshot, dns: { ...snapshot.dns, podsMode: mode } };
    const disagreements: Disagreement[] = [];
    for (const row of labels(snapshot.dns.clusterDomain)) {
      const expectation = dnsExpectationFor(modeSnapshot, row.query);
      // the rule under test, stated outright as well as through the model
      expect(`${row.query.name} ${expectation.expect.rcode}`).toBe(`${row.query.name} ${row[mode]}`);
      for (const transport of ['udp', 'tcp'] as const) {
        const got = await prober.query(row.query, { ...server, transport });
        if (!agrees(expectation.expect, got)) {
          disagreements.push({ query: `${row.query.type} ${row.query.name}`, transport, model: answerText(expectation.expect), coredns: answerText(got), why: expectation.why });
        }
      }
    }
    expect(disagreements).toEqual([]);
  }, 60_000);
});
