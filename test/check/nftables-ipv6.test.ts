// kube-proxy's `table ip6 kube-proxy` (nftables mode, dual-stack): the IPv6 proxier writes the IPv4 one's table
// with ip6 matches, ipv6_addr sets, the node's IPv6 address and the IPv6 Service and pod ranges.
// NOT PROVEN ON A REAL KUBE-PROXY: the VM cluster is IPv4 only, so no real ip6 capture exists. The ip6 table is
// hand-written (test/fixtures/hand-written/nft-list-table-ip6.txt) to imitate `nft list table ip6 kube-proxy` as
// nft 1.0.6 prints it: the real IPv4 capture's layout, with the family differences of kube-proxy's
// pkg/proxy/nftables/proxier.go (ipX "ip6", ipvX_addr "ipv6_addr", noLocalhost "ip6 daddr != ::1").
import { readFileSync } from 'node:fs';
import { checkLab } from '../../src/check/check.ts';
import type { ClusterSnapshot } from '../../src/snapshot/types.ts';
import { readCapture } from '../fixtures/captures/read.ts';

const NODE = 'netlab-nftables-node';

/** The real IPv4 test cluster made dual-stack: Service web gets an IPv6 ClusterIP and IPv6 endpoints for its http port. */
function dualStack(): ClusterSnapshot {
  const snapshot = JSON.parse(readCapture('vm-kube-proxy-nftables-final-snapshot.json')) as ClusterSnapshot;
  snapshot.nodes.find((n) => n.name === NODE)!.addresses.push({ type: 'InternalIP', address: 'fd00:10:0:2::15' });
  snapshot.kubeProxy.clusterCIDRs.push('fd00:10:244::/56');
  snapshot.serviceCIDRs.push('fd00:10:96::/108');
  snapshot.services.find((s) => s.namespace === 'nftables-78f6' && s.name === 'web')!.clusterIPs.push('fd00:10:96::a9');
  const endpoint = (address: string, node: string, pod: string) => ({
    addresses: [address], ready: true, serving: true, terminating: false, hostname: null, nodeName: node,
    zone: null, zoneHints: [], nodeHints: [], targetRef: { kind: 'Pod', namespace: 'nftables-78f6', name: pod },
  });
  snapshot.endpointSlices.push({
    namespace: 'nftables-78f6', name: 'web-v6', serviceName: 'web', addressType: 'IPv6',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: [endpoint('fd00:10:244::b', NODE, 'web-1'), endpoint('fd00:10:244:1::d', 'other-node', 'web-3')],
  } as ClusterSnapshot['endpointSlices'][number]);
  return snapshot;
}

// The hand-written ip6 table (its first lines say how it was made), without its note.
const IP6_TABLE = readFileSync(new URL('../fixtures/hand-written/nft-list-table-ip6.txt', import.meta.url), 'utf8')
  .split('\n').filter((line) => !line.startsWith('#')).join('\n');

const check = (snapshot: ClusterSnapshot, text: string) => checkLab(snapshot, { nodes: [{ node: NODE, nftListTable: text }] }, { layers: ['nftables'], nodes: [NODE] }).layers.nftables;
const keys = (findings: { kind: string; key: string }[]) => findings.map((f) => `${f.kind} ${f.key}`);
const ip4 = readCapture('vm-kube-proxy-nftables-final.txt');

describe('the ip6 kube-proxy table (dual-stack, nftables mode)', () => {
  test('the real ip table and the hand-written ip6 table in one listing (as `nft list ruleset`): both checked, no findings', () => {
    const result = check(dualStack(), ip4 + IP6_TABLE);
    expect(result.findings).toEqual([]);
    expect(result.unknown).toEqual([]);
    expect(result.status).toBe('pass');
  });

  test('a rule taken out of the ip6 table is one finding, keyed with ip6', () => {
    const text = IP6_TABLE.replace(/\t\tct status dnat ip6 saddr .*\n/, '');
    expect(keys(check(dualStack(), ip4 + text).findings)).toEqual(['missing ip6 masquerading: ct status dnat ip6 saddr . ip6 daddr . meta l4proto . th dport @hairpin-connections masquerade fully-random']);
    const element = IP6_TABLE.replace(' fd00:10:96::a9 . tcp . 80 : goto service-JWP35LBO-nftables-78f6/web/tcp/http ', ' ');
    expect(keys(check(dualStack(), ip4 + element).findings)).toEqual(['missing ip6 map service-ips element fd00:10:96::a9 . tcp . 80']);
  });

  test('IPv6 Services with only the ip table observed: not checked, and the report says so', () => {
    const result = check(dualStack(), ip4);
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('unknown');
    expect(result.unknown).toEqual([expect.stringMatching(/^node netlab-nftables-node: its IPv6 Services were not checked: the nft listing has no table ip6 kube-proxy/)]);
  });

  test('an IPv4-only cluster: the ip table alone passes, as before', () => {
    const snapshot = JSON.parse(readCapture('vm-kube-proxy-nftables-final-snapshot.json')) as ClusterSnapshot;
    expect(check(snapshot, ip4).status).toBe('pass');
  });
});
