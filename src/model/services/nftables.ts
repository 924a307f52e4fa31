// The `ip kube-proxy` table kube-proxy in nftables mode keeps on one node, as `nft list table ip kube-proxy`
// prints it. Source: kubernetes pkg/proxy/nftables/proxier.go (setupNFTables, syncProxyRules,
// writeServiceToEndpointRules), v1.33+; rule texts are written the way nft 1.0 prints them back.
import type { IpFamily } from '../../net/ip.ts';
import type { InterfaceAddressTable } from '../../parse/types.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import { findNode } from '../lookup.ts';
import { nodePortAddresses } from '../node-addresses.ts';
import type { ExpectedNftChain, ExpectedNftElement, ExpectedNftSet, NodeNftables, ServiceRuleWhy } from '../types.ts';
import { endpointString, nftEndpointName, nftServiceChains } from './names.ts';
import type { PortEndpoint } from '../endpoints.ts';
import { eachServicePortPlan, endpointRef, portRef, type ServicePortPlan } from './ports.ts';

/** kube-proxy's base chains, as nft 1.0 prints their hook lines. */
const BASE_CHAINS: { name: string; hook: string }[] = [
  { name: 'filter-prerouting-pre-dnat', hook: 'type filter hook prerouting priority dstnat - 10; policy accept;' },
  { name: 'filter-output-pre-dnat', hook: 'type filter hook output priority -110; policy accept;' },
  { name: 'filter-input', hook: 'type filter hook input priority filter; policy accept;' },
  { name: 'filter-forward', hook: 'type filter hook forward priority filter; policy accept;' },
  { name: 'filter-output', hook: 'type filter hook output priority filter; policy accept;' },
  { name: 'nat-prerouting', hook: 'type nat hook prerouting priority dstnat; policy accept;' },
  { name: 'nat-output', hook: 'type nat hook output priority -100; policy accept;' },
  { name: 'nat-postrouting', hook: 'type nat hook postrouting priority srcnat; policy accept;' },
];

/** The jumps from the base chains into kube-proxy's own chains, in the order kube-proxy adds them. */
const JUMPS: { from: string; to: string; match: string }[] = [
  { from: 'filter-prerouting-pre-dnat', to: 'firewall-check', match: 'ct state new ' },
  { from: 'filter-output-pre-dnat', to: 'firewall-check', match: 'ct state new ' },
  { from: 'filter-input', to: 'nodeport-endpoints-check', match: 'ct state new ' },
  { from: 'filter-input', to: 'service-endpoints-check', match: 'ct state new ' },
  { from: 'filter-forward', to: 'service-endpoints-check', match: 'ct state new ' },
  { from: 'filter-forward', to: 'cluster-ips-check', match: 'ct state new ' },
  { from: 'filter-output', to: 'service-endpoints-check', match: 'ct state new ' },
  { from: 'filter-output', to: 'cluster-ips-check', match: 'ct state new ' },
  { from: 'nat-prerouting', to: 'services', match: '' },
  { from: 'nat-output', to: 'services', match: '' },
  { from: 'nat-postrouting', to: 'masquerading', match: '' },
];

/** nft prints a mark as 0x and eight hex digits. */
function markText(bit: number): string {
  return `0x${(2 ** bit).toString(16).padStart(8, '0')}`;
}

/** nft's way of printing a timeout: days, hours, minutes, seconds, zero parts left out ("3h", "1h30m"). */
export function nftDuration(seconds: number): string {
  const parts: [number, string][] = [[Math.floor(seconds / 86400), 'd'], [Math.floor(seconds / 3600) % 24, 'h'], [Math.floor(seconds / 60) % 60, 'm'], [seconds % 60, 's']];
  return parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join('') || '0s';
}

export interface NftablesModelOptions {
  family?: IpFamily;
  /** the node's observed interface addresses (`ip -o addr`), for nodePortAddresses other than "all" */
  interfaces?: InterfaceAddressTable | null;
}

/** Builds one table: chains and sets in the order kube-proxy creates them. */
class TableBuilder {
  readonly chains = new Map<string, ExpectedNftChain>();
  readonly sets = new Map<string, ExpectedNftSet>();

  chain(name: string, why: ExpectedNftChain['why'], fields: Partial<Pick<ExpectedNftChain, 'hook' | 'comment'>> = {}): ExpectedNftChain {
    let chain = this.chains.get(name);
    if (!chain) this.chains.set(name, (chain = { name, hook: fields.hook ?? null, comment: fields.comment ?? null, rules: [], why }));
    return chain;
  }

  rule(chain: string, text: string, why: ServiceRuleWhy): void {
    this.chains.get(chain)!.rules.push({ text, why });
  }

  set(set: Omit<ExpectedNftSet, 'elements'>): void {
    this.sets.set(set.name, { ...set, elements: [] });
  }

  private readonly keys = new Map<string, Set<string>>();

  /** Adds an element; one already there with the same key stays (a set holds each key once). */
  element(set: string, element: ExpectedNftElement): void {
    let keys = this.keys.get(set);
    if (!keys) this.keys.set(set, (keys = new Set()));
    if (keys.has(element.key)) return;
    keys.add(element.key);
    this.sets.get(set)!.elements.push(element);
  }
}

/**
 * The table kube-proxy (nftables mode) programs on `nodeName` for one family (default IPv4: `ip kube-proxy`),
 * as kube-proxy v1.37.2 writes it (checked against the real one in test/integration/kube-proxy-modes.test.ts).
 * Per Service port (see ServicePortPlan for the endpoint choice, shared with the other modes):
 * - its ClusterIP joins the cluster-ips set; with internal endpoints, service-ips maps ClusterIP . proto . port
 *   to `goto` the port's service- (or local-, with internalTrafficPolicy Local) chain, otherwise
 *   no-endpoint-services maps it to `goto reject-chain` (no endpoint at all) or `drop`;
 * - externalIPs and load balancer IPs map to its external- chain when it has endpoints; NodePorts likewise
 *   in service-nodeports; without external endpoints they also get a no-endpoint element;
 * - the service-/local- chain DNATs itself: to the one endpoint, or to `numgen random mod N map` over the
 *   endpoints (ip:port order); with ClientIP affinity it keeps one endpoint- chain per endpoint instead,
 *   checked against each endpoint's affinity set before `numgen random mod N vmap`;
 * - endpoints on this node join hairpin-connections (ip . ip . proto . port), which the masquerading chain
 *   masquerades: a pod that reaches itself through its Service;
 * - off-cluster clients of any ClusterIP are marked for masquerade in the services chain, once for all.
 * In nftables mode nodePortAddresses defaults to the node's primary address (the nodeport-ips set).
 * LoadBalancer source ranges (the firewall- chains) are not modelled: the snapshot does not carry them.
 */
export function expectedNftables(snapshot: ClusterSnapshot, nodeName: string, options: NftablesModelOptions = {}): NodeNftables {
  const family = options.family ?? 'IPv4';
  const ipX = family === 'IPv4' ? 'ip' : 'ip6';
  const addrType = family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
  const noLocalhost = family === 'IPv4' ? 'ip daddr != 127.0.0.0/8' : 'ip6 daddr != ::1';
  const proxy = snapshot.kubeProxy;
  const mark = markText(proxy.masqueradeBit);
  const markForMasquerade = `meta mark set meta mark | ${mark}`;
  const podCIDRs = proxy.clusterCIDRs.filter((cidr) => cidr.includes(':') === (family === 'IPv6'));
  const t = new TableBuilder();
  const plumbing = { kind: 'plumbing' } as const;
  const map = (name: string, type: string, comment: string) => t.set({ kind: 'map', name, type, flags: [], timeout: null, comment, dynamic: false });
  const set = (name: string, type: string, comment: string) => t.set({ kind: 'set', name, type, flags: [], timeout: null, comment, dynamic: false });

  set('hairpin-connections', `${addrType} . ${addrType} . inet_proto . inet_service`, 'service hairpin connections');
  set('cluster-ips', addrType, 'Active ClusterIPs');
  const nodePorts = nodePortAddresses(findNode(snapshot, nodeName), family, proxy.nodePortAddresses.length ? proxy.nodePortAddresses : ['primary'], options.interfaces ?? null);
  const matchAll = nodePorts.within === null;
  if (!matchAll) {
    set('nodeport-ips', addrType, 'IPs that accept NodePort traffic');
    for (const { address } of nodePorts.addresses) t.element('nodeport-ips', { key: address, value: null, comment: null, why: { kind: 'dispatch-nodeports' } });
  }
  map('no-endpoint-services', `${addrType} . inet_proto . inet_service : verdict`, 'vmap to drop or reject packets to services with no endpoints');
  map('no-endpoint-nodeports', 'inet_proto . inet_service : verdict', 'vmap to drop or reject packets to service nodeports with no endpoints');
  map('firewall-ips', `${addrType} . inet_proto . inet_service : verdict`, 'destinations that are subject to LoadBalancerSourceRanges');
  map('service-ips', `${addrType} . inet_proto . inet_service : verdict`, 'ClusterIP, ExternalIP and LoadBalancer IP traffic');
  map('service-nodeports', 'inet_proto . inet_service : verdict', 'NodePort traffic');

  for (const base of BASE_CHAINS) t.chain(base.name, { kind: 'base' }, { hook: base.hook });
  for (const name of ['nodeport-endpoints-check', 'service-endpoints-check', 'firewall-check', 'services', 'masquerading', 'cluster-ips-check']) t.chain(name, plumbing);
  for (const jump of JUMPS) t.rule(jump.from, `${jump.match}jump ${jump.to}`, { kind: 'hook', from: jump.from });
  const nodePortMatch = matchAll ? `fib daddr type local ${noLocalhost}` : `${ipX} daddr @nodeport-ips`;
  t.rule('nodeport-endpoints-check', `${matchAll ? noLocalhost : `${ipX} daddr @nodeport-ips`} meta l4proto . th dport vmap @no-endpoint-nodeports`, { kind: 'check-nodeport-no-endpoints' });
  t.rule('service-endpoints-check', `${ipX} daddr . meta l4proto . th dport vmap @no-endpoint-services`, { kind: 'check-no-endpoints' });
  t.rule('firewall-check', `${ipX} daddr . meta l4proto . th dport vmap @firewall-ips`, { kind: 'check-firewall' });
  // masqueradeAll's text is kube-proxy's rule without the pod-network condition: not seen on a real node yet
  if (proxy.masqueradeAll) t.rule('services', `${ipX} daddr @cluster-ips ${markForMasquerade} comment "masquerade clusterIP traffic from outside cluster"`, { kind: 'masquerade-all' });
  else if (podCIDRs.length) t.rule('services', `${ipX} daddr @cluster-ips ${ipX} saddr != ${cidrMatch(podCIDRs)} ${markForMasquerade} comment "masquerade clusterIP traffic from outside cluster"`, { kind: 'masquerade-off-cluster' });
  t.rule('services', `${ipX} daddr . meta l4proto . th dport vmap @service-ips`, { kind: 'dispatch-service-ips' });
  t.rule('services', `${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`, { kind: 'dispatch-nodeports' });
  t.rule('masquerading', `meta mark & ${mark} != 0x00000000 meta mark set meta mark ^ ${mark} masquerade fully-random`, { kind: 'masquerade' });
  t.rule('masquerading', `ct status dnat ${ipX} saddr . ${ipX} daddr . meta l4proto . th dport @hairpin-connections masquerade fully-random`, { kind: 'masquerade-hairpin' });
  t.rule('cluster-ips-check', `${ipX} daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`, { kind: 'cluster-ip-bad-port' });
  const serviceCIDRs = snapshot.serviceCIDRs.filter((cidr) => cidr.includes(':') === (family === 'IPv6'));
  if (serviceCIDRs.length) {
    t.rule('cluster-ips-check', `${ipX} daddr ${cidrMatch(serviceCIDRs)} drop comment "Drop traffic to unallocated ClusterIPs"`, { kind: 'cluster-ip-unallocated' });
  }
  t.chain('reject-chain', plumbing, { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' });
  t.rule('reject-chain', 'reject', { kind: 'reject' });

  const context: PortContext = { t, ipX, addrType, podCIDRs, markForMasquerade };
  for (const plan of eachServicePortPlan(snapshot, nodeName, family)) addServicePort(context, plan);

  return { node: nodeName, family: ipX, name: 'kube-proxy', comment: 'rules for kube-proxy', sets: [...t.sets.values()], chains: [...t.chains.values()] };
}

interface PortContext {
  t: TableBuilder;
  ipX: string;
  addrType: string;
  podCIDRs: string[];
  markForMasquerade: string;
}

/** "10.0.0.0/8" as an nft match on the source: one CIDR, or an anonymous set of several. */
function cidrMatch(cidrs: string[]): string {
  return cidrs.length === 1 ? cidrs[0]! : `{ ${cidrs.join(', ')} }`;
}

function addServicePort(c: PortContext, plan: ServicePortPlan): void {
  const { t, ipX } = c;
  const port = portRef(plan);
  const proto = port.protocol;
  const svc = plan.service;
  const chainName = nftServiceChains(svc.namespace, svc.name, plan.port.name, proto);
  const clusterChain = chainName('service-');
  const localChain = chainName('local-');
  const externalChain = chainName('external-');
  const endpointChain = (e: PortEndpoint) => nftEndpointName('endpoint-', svc.namespace, svc.name, plan.port.name, proto, e.address, e.port);
  const affinitySet = (e: PortEndpoint) => nftEndpointName('affinity-', svc.namespace, svc.name, plan.port.name, proto, e.address, e.port);

  const usesClusterChain = plan.clusterEndpoints.length > 0 && plan.usesClusterEndpoints;
  const usesLocalChain = plan.localEndpoints.length > 0 && plan.usesLocalEndpoints;
  const internalChain = plan.internalPolicyLocal ? localChain : clusterChain;
  const externalPolicyChain = plan.externalPolicyLocal ? localChain : clusterChain;
  const usesExternalChain = plan.hasEndpoints && plan.externallyAccessible;
  const verdict = plan.hasEndpoints ? 'drop' : 'goto reject-chain';
  const verdictWord = plan.hasEndpoints ? 'drop' : 'reject';
  const affinity = plan.affinityTimeout !== null;

  // chains in the order kube-proxy creates them: endpoint chains (affinity only), then policy and external chains
  if (affinity) for (const e of plan.reachableEndpoints) t.chain(endpointChain(e), { kind: 'endpoint', port, endpoint: endpointRef(plan, e) });
  if (usesClusterChain) t.chain(clusterChain, { kind: 'service', port });
  if (usesLocalChain) t.chain(localChain, { kind: 'local', port });
  if (usesExternalChain) t.chain(externalChain, { kind: 'external', port });

  for (const e of plan.reachableEndpoints) {
    if (e.local) t.element('hairpin-connections', { key: `${e.address} . ${e.address} . ${proto} . ${e.port}`, value: null, comment: null, why: { kind: 'hairpin', port, endpoint: endpointRef(plan, e) } });
  }
  const key = (address: string, portNumber: number) => `${address} . ${proto} . ${portNumber}`;
  t.element('cluster-ips', { key: plan.clusterIP, value: null, comment: null, why: { kind: 'cluster-ip', port } });
  if (plan.hasInternalEndpoints) {
    t.element('service-ips', { key: key(plan.clusterIP, plan.port.port), value: `goto ${internalChain}`, comment: null, why: { kind: 'dispatch-cluster-ip', port, address: 'ClusterIP' } });
  } else {
    t.element('no-endpoint-services', { key: key(plan.clusterIP, plan.port.port), value: verdict, comment: plan.name, why: { kind: 'no-endpoints', port, address: 'ClusterIP', verdict: verdictWord } });
  }
  for (const [addresses, kind] of [[plan.externalIPs, 'ExternalIP'], [plan.loadBalancerIPs, 'LoadBalancer']] as const) {
    for (const address of addresses) {
      if (plan.hasEndpoints) {
        t.element('service-ips', { key: key(address, plan.port.port), value: `goto ${externalChain}`, comment: null, why: { kind: kind === 'ExternalIP' ? 'dispatch-external-ip' : 'dispatch-load-balancer', port, address: kind } });
      }
      if (!plan.hasExternalEndpoints) {
        t.element('no-endpoint-services', { key: key(address, plan.port.port), value: verdict, comment: plan.name, why: { kind: 'no-endpoints', port, address: kind, verdict: verdictWord } });
      }
    }
  }
  if (plan.port.nodePort) {
    const nodePortKey = `${proto} . ${plan.port.nodePort}`;
    if (plan.hasEndpoints) {
      t.element('service-nodeports', { key: nodePortKey, value: `goto ${externalChain}`, comment: null, why: { kind: 'dispatch-nodeport', port, address: 'NodePort' } });
    }
    if (!plan.hasExternalEndpoints) {
      t.element('no-endpoint-nodeports', { key: nodePortKey, value: verdict, comment: plan.name, why: { kind: 'no-endpoints', port, address: 'NodePort', verdict: verdictWord } });
    }
  }

  if (usesExternalChain) {
    if (!plan.externalPolicyLocal) {
      t.rule(externalChain, `${c.markForMasquerade} comment "masquerade"`, { kind: 'external-masquerade', port });
    } else {
      if (c.podCIDRs.length) t.rule(externalChain, `${ipX} saddr ${cidrMatch(c.podCIDRs)} goto ${clusterChain} comment "short-circuit pod traffic"`, { kind: 'external-pod-short-circuit', port });
      t.rule(externalChain, `fib saddr type local ${c.markForMasquerade} comment "masquerade local traffic"`, { kind: 'external-local-masquerade', port });
      t.rule(externalChain, `fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`, { kind: 'external-local-short-circuit', port });
    }
    if (plan.hasExternalEndpoints) t.rule(externalChain, `goto ${externalPolicyChain}`, { kind: 'external-policy', port });
  }

  if (affinity) {
    for (const e of plan.reachableEndpoints) {
      t.set({ kind: 'set', name: affinitySet(e), type: c.addrType, flags: ['dynamic', 'timeout'], timeout: nftDuration(plan.affinityTimeout!), comment: null, dynamic: true, port, endpoint: endpointRef(plan, e) });
    }
  }
  const balance = (chain: string, endpoints: PortEndpoint[]) => {
    const share = { index: 0, count: endpoints.length, probability: null };
    if (affinity) {
      for (const e of endpoints) t.rule(chain, `${ipX} saddr @${affinitySet(e)} goto ${endpointChain(e)}`, { kind: 'affinity-check', port, endpoint: endpointRef(plan, e) });
      const choices = endpoints.map((e, i) => `${i} : goto ${endpointChain(e)}`).join(', ');
      t.rule(chain, `numgen random mod ${endpoints.length} vmap { ${choices} }`, { kind: 'balance', port, share });
    } else if (endpoints.length === 1) {
      t.rule(chain, `meta l4proto ${proto} dnat to ${endpointString(endpoints[0]!.address, endpoints[0]!.port)}`, { kind: 'dnat', port, endpoint: endpointRef(plan, endpoints[0]!) });
    } else {
      const choices = endpoints.map((e, i) => `${i} : ${e.address} . ${e.port}`).join(', ');
      t.rule(chain, `meta l4proto ${proto} dnat ${ipX} to numgen random mod ${endpoints.length} map { ${choices} }`, { kind: 'balance-dnat', port, share });
    }
  };
  if (usesClusterChain) balance(clusterChain, plan.clusterEndpoints);
  if (usesLocalChain) balance(localChain, plan.localEndpoints);

  if (affinity) {
    for (const e of plan.reachableEndpoints) {
      const endpoint = endpointRef(plan, e);
      t.rule(endpointChain(e), `update @${affinitySet(e)} { ${ipX} saddr }`, { kind: 'affinity-record', port, endpoint });
      t.rule(endpointChain(e), `meta l4proto ${proto} dnat to ${endpointString(e.address, e.port)}`, { kind: 'dnat', port, endpoint });
    }
  }
}
