// The DNS layer's model: what CoreDNS's kubernetes plugin answers, from the cluster objects.
// Read from coredns/coredns v1.12.1 and checked against v1.14.6 (the version the test harness builds):
// for kubeadm's Corefile the two differ only in the IPv6 endpoint label (see names.ts endpointLabel).
// One file per record kind: address.ts (A/AAAA), srv.ts, cname.ts, ptr.ts, txt.ts; records.ts looks names
// up, resolve.ts dispatches one query, queries.ts picks the questions the DNS layer asks.
//
// Assumed, not confirmed against a running CoreDNS (UNCONFIRMED):
// - the Corefile is kubeadm's: kubernetes plugin for the cluster domain, in-addr.arpa and ip6.arpa with
//   "fallthrough in-addr.arpa ip6.arpa", no "endpoint_pod_names", no "ignore empty_service", no
//   "namespaces" filter; the pods mode comes from the snapshot;
// - "ns.dns.<zone>" answers the kube-dns Service IPs (CoreDNS lists the Services its own pod backs);
// - an ExternalName target outside the zone resolves upstream (if that lookup failed, CoreDNS would leave
//   out the CNAME as well);
// - TTLs are not modelled (kubeadm: 30; the plugin default: 5; kubeadm's cache may count them down).
export { dnsExpectationFor, expectedAnswerFor } from './resolve.ts';
export { type DnsExpectationOptions, expectedDns } from './queries.ts';
export { UnpredictableDnsQuery } from './answer.ts';
