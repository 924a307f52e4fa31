// resolv.conf layer: the file the kubelet should have written for a pod against the one it has.
import type { ExpectedResolvConf } from '../model/types.ts';
import type { ResolvConf } from '../parse/types.ts';
import type { Finding } from './types.ts';

export function compareResolvConf(expected: ExpectedResolvConf, observed: ResolvConf, where: string): Finding[] {
  const findings: Finding[] = [];
  const mismatch = (key: string, want: string, got: string, cause: string, next: string) =>
    findings.push({
      layer: 'resolvconf', kind: 'mismatch', node: null, key, fields: [key],
      expected: want, observed: got,
      message: `resolv.conf of ${where}: ${key} is "${got}", expected "${want}".`, cause, next,
    });
  const kubelet = 'the kubelet configuration (clusterDNS, clusterDomain, resolvConf) on the pod\'s node and the pod\'s dnsPolicy/dnsConfig';
  const fromNode = expected.unknownFromNode;
  // With the node's file unread, its part of the pod's file cannot be wrong: only the rest is compared.
  const search = fromNode === 'search-tail' ? observed.search.slice(0, expected.search.length) : observed.search;
  if (fromNode !== 'node-file' && expected.nameservers.join(' ') !== observed.nameservers.join(' ')) {
    mismatch('nameserver', expected.nameservers.join(' '), observed.nameservers.join(' '),
      'The pod does not ask the cluster DNS Service: the kubelet\'s clusterDNS differs from the kube-dns Service IP, or the pod uses another dnsPolicy.', kubelet);
  }
  if (fromNode !== 'node-file' && expected.search.join(' ') !== search.join(' ')) {
    mismatch('search', expected.search.join(' '), observed.search.join(' '),
      'Short names will be completed with other domains than the cluster\'s: the kubelet\'s clusterDomain differs, or the host\'s search list was appended.', kubelet);
  }
  // Options are compared as a set: with spec.dnsConfig the kubelet merges them through a map, in no fixed order.
  const names = new Set([...Object.keys(expected.options), ...Object.keys(observed.options)]);
  for (const name of [...names].sort()) {
    const want = expected.options[name];
    const got = observed.options[name];
    if (want === got) continue;
    const show = (v: string | null | undefined) => (v === undefined ? '(absent)' : v === null ? name : `${name}:${v}`);
    mismatch(`options ${name}`, show(want), show(got),
      name === 'ndots'
        ? 'ndots decides when a name is tried with the search list first: with ndots:5 "kubernetes.default" is tried as kubernetes.default.<ns>.svc.cluster.local before going upstream; another value changes which names resolve and how many queries each lookup makes.'
        : 'The pod\'s options differ from what the kubelet writes for its dnsPolicy.',
      kubelet);
  }
  return findings;
}
