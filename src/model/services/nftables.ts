// The `ip kube-proxy` table kube-proxy in nftables mode keeps on one node, as `nft list table ip kube-proxy`
// prints it. Source: kubernetes pkg/proxy/nftables/proxier.go (setupNFTables, syncProxyRules,
// writeServiceToEndpointRules), v1.33+; rule texts are written the way nft 1.0 prints them back.
import type { IpFamily } from '../../net/ip.ts';
import type { InterfaceAddressTable } from '../../parse/types.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import { findNode } from '../lookup.ts';
import { nodePortAddresses } from '../node-addresses.ts';
import type { ExpectedNftChain, ExpectedNftElement, ExpectedNftSet, NodeNftables, ServiceRuleWhy } from '../types.ts';
import { endpointString, nftEndpointName, nftServiceChain } from './names.ts';
import type { PortEndpoint } from '../endpoints.ts';
import { endpointRef, portRef, type ServicePortPlan, servicePortPlans } from './ports.ts';

/** kube-proxy's base chains: name, the hook line nft prints, and the chains it jumps to (with a match). */
const BASE_CHAINS: { name: string; hook: string }[] = [
  { name: 'filter-prerouting', hook: 'type filter hook prerouting priority dstnat - 10; policy accept;' },
  { name: 'filter-input', hook: 'type filter hook input priority -110; policy accept;' },
  { name: 'filter-forward', hook: 'type filter hook forward priority -110; policy accept;' },
  { name: 'filter-output', hook: 'type filter hook output priority -110; policy accept;' },
  { name: 'filter-output-post-dnat', hook: 'type filter hook output priority -90; policy accept;' },
  { name: 'nat-prerouting', hook: 'type nat hook prerouting priority dstnat; policy accept;' },
  { name: 'nat-output', hook: 'type nat hook output priority -100; policy accept;' },
  { name: 'nat-postrouting', hook: 'type nat hook postrouting priority srcnat; policy accept;' },
];

const JUMPS: { from: string; to: string; match: string }[] = [
  { from: 'filter-input', to: 'nodeport-endpoints-check', match: 'ct state new ' },
  { from: 'filter-input', to: 'service-endpoints-check', match: 'ct state new ' },
  { from: 'filter-forward', to: 'service-endpoints-check', match: 'ct state new ' },
  { from: 'filter-output', to: 'service-endpoints-check', match: 'ct state new ' },
  { from: 'filter-prerouting', to: 'firewall-check', match: 'ct state new ' },
  { from: 'filter-output', to: 'firewall-check', match: 'ct state new ' },
  { from: 'nat-output', to: 'services', match: '' },
  { from: 'nat-prerouting', to: 'services', match: '' },
  { from: 'nat-postrouting', to: 'masquerading', match: '' },
  { from: 'filter-forward', to: 'cluster-ips-check', match: 'ct state new ' },
  { from: 'filter-output-post-dnat', to: 'cluster-ips-check', match: 'ct state new ' },
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

  element(set: string, element: ExpectedNftElement): void {
    this.sets.get(set)!.elements.push(element);
  }
}

/**
 * The table kube-proxy (nftables mode) programs on `nodeName` for one family (default IPv4: `ip kube-proxy`).
 * Per Service port (see ServicePortPlan for the endpoint choice, shared with the other modes):
 * - its ClusterIP joins the cluster-ips set; with internal endpoints, service-ips maps ClusterIP . proto . port
 *   to `goto` the port's service- (or local-, with internalTrafficPolicy Local) chain, otherwise
 *   no-endpoint-services maps it to `goto reject-chain` (no endpoint at all) or `drop`;
 * - externalIPs and load balancer IPs map to its external- chain when it has endpoints; NodePorts likewise
 *   in service-nodeports; without external endpoints they also get a no-endpoint element;
 * - the service-/local- chains: masquerade marking for off-cluster clients of the ClusterIP, the affinity
 *   checks, then `numgen random mod N vmap` choosing among the endpoint chains (endpoints in ip:port order);
 * - one endpoint- chain per reachable endpoint: mark if the pod talks to itself, record affinity, DNAT.
 * LoadBalancer source ranges (the firewall- chains) are not modelled: the snapshot does not carry them.
 */
export function expectedNftables(snapshot: ClusterSnapshot, nodeName: string, options: NftablesModelOptions = {}): NodeNftables {
  const family = options.family ?? 'IPv4';
  const ipX = family === 'IPv4' ? 'ip' : 'ip6';
  const addrType = family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr';
  const noLocalhost = family === 'IPv4' ? 'ip daddr != 127.0.0.0/8' : 'ip6 daddr != ::1';
  const proxy = snapshot.kubeProxy;
  const mark = markText(proxy.masqueradeBit);
  const podCIDRs = proxy.clusterCIDRs.filter((cidr) => cidr.includes(':') === (family === 'IPv6'));
  const t = new TableBuilder();
  const plumbing = { kind: 'plumbing' } as const;

  for (const base of BASE_CHAINS) t.chain(base.name, { kind: 'base' }, { hook: base.hook });
  for (const jump of JUMPS) {
    t.chain(jump.to, plumbing);
    t.rule(jump.from, `${jump.match}jump ${jump.to}`, { kind: 'hook', from: jump.from });
  }
  for (const name of ['services', 'cluster-ips-check', 'masquerading', 'mark-for-masquerade']) t.chain(name, plumbing);
  t.rule('mark-for-masquerade', `meta mark set meta mark | ${mark}`, { kind: 'mark-for-masquerade' });
  t.rule('masquerading', `meta mark & ${mark} == 0x00000000 return`, { kind: 'masquerade-skip-unmarked' });
  t.rule('masquerading', `meta mark set meta mark ^ ${mark}`, { kind: 'masquerade-clear-mark' });
  t.rule('masquerading', 'masquerade fully-random', { kind: 'masquerade' });

  t.set({ kind: 'set', name: 'cluster-ips', type: addrType, flags: [], timeout: null, comment: 'Active ClusterIPs', dynamic: false });
  t.rule('cluster-ips-check', `${ipX} daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`, { kind: 'cluster-ip-bad-port' });
  const serviceCIDRs = snapshot.serviceCIDRs.filter((cidr) => cidr.includes(':') === (family === 'IPv6'));
  if (serviceCIDRs.length) {
    // nft prints a one-element anonymous set without its braces
    const cidrs = serviceCIDRs.length === 1 ? serviceCIDRs[0] : `{ ${serviceCIDRs.join(', ')} }`;
    t.rule('cluster-ips-check', `${ipX} daddr ${cidrs} drop comment "Drop traffic to unallocated ClusterIPs"`, { kind: 'cluster-ip-unallocated' });
  }

  const nodePorts = nodePortAddresses(findNode(snapshot, nodeName), family, proxy.nodePortAddresses, options.interfaces ?? null);
  const matchAll = nodePorts.within === null;
  if (!matchAll) {
    t.set({ kind: 'set', name: 'nodeport-ips', type: addrType, flags: [], timeout: null, comment: 'IPs that accept NodePort traffic', dynamic: false });
    for (const { address } of nodePorts.addresses) {
      t.element('nodeport-ips', { key: address, value: null, comment: null, why: { kind: 'dispatch-nodeports' } });
    }
  }
  t.set({ kind: 'map', name: 'no-endpoint-services', type: `${addrType} . inet_proto . inet_service : verdict`, flags: [], timeout: null, comment: 'vmap to drop or reject packets to services with no endpoints', dynamic: false });
  t.set({ kind: 'map', name: 'no-endpoint-nodeports', type: 'inet_proto . inet_service : verdict', flags: [], timeout: null, comment: 'vmap to drop or reject packets to service nodeports with no endpoints', dynamic: false });
  t.chain('reject-chain', plumbing, { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' });
  t.rule('reject-chain', 'reject', { kind: 'reject' });
  t.rule('service-endpoints-check', `${ipX} daddr . meta l4proto . th dport vmap @no-endpoint-services`, { kind: 'check-no-endpoints' });
  t.rule('nodeport-endpoints-check', `${matchAll ? noLocalhost : `${ipX} daddr @nodeport-ips`} meta l4proto . th dport vmap @no-endpoint-nodeports`, { kind: 'check-nodeport-no-endpoints' });
  t.set({ kind: 'map', name: 'firewall-ips', type: `${addrType} . inet_proto . inet_service : verdict`, flags: [], timeout: null, comment: 'destinations that are subject to LoadBalancerSourceRanges', dynamic: false });
  t.rule('firewall-check', `${ipX} daddr . meta l4proto . th dport vmap @firewall-ips`, { kind: 'check-firewall' });
  t.set({ kind: 'map', name: 'service-ips', type: `${addrType} . inet_proto . inet_service : verdict`, flags: [], timeout: null, comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic', dynamic: false });
  t.set({ kind: 'map', name: 'service-nodeports', type: 'inet_proto . inet_service : verdict', flags: [], timeout: null, comment: 'NodePort traffic', dynamic: false });
  t.rule('services', `${ipX} daddr . meta l4proto . th dport vmap @service-ips`, { kind: 'dispatch-service-ips' });
  t.rule('services', `${matchAll ? `fib daddr type local ${noLocalhost}` : `${ipX} daddr @nodeport-ips`} meta l4proto . th dport vmap @service-nodeports`, { kind: 'dispatch-nodeports' });

  const context: PortContext = { t, ipX, addrType, podCIDRs, masqueradeAll: proxy.masqueradeAll };
  for (const plan of servicePortPlans(snapshot, nodeName, family)) addServicePort(context, plan);

  return { node: nodeName, family: ipX, name: 'kube-proxy', comment: 'rules for kube-proxy', sets: [...t.sets.values()], chains: [...t.chains.values()] };
}

interface PortContext {
  t: TableBuilder;
  ipX: string;
  addrType: string;
  podCIDRs: string[];
  masqueradeAll: boolean;
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
  const chainName = (prefix: Parameters<typeof nftServiceChain>[0]) => nftServiceChain(prefix, svc.namespace, svc.name, plan.port.name, proto);
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
  const internalVerdict = plan.hasEndpoints ? 'drop' : 'goto reject-chain';
  const externalVerdict = internalVerdict;
  const verdictWord = plan.hasEndpoints ? 'drop' : 'reject';

  // chains come first in kube-proxy's transaction: endpoint chains, then the policy and external chains
  for (const e of plan.reachableEndpoints) t.chain(endpointChain(e), { kind: 'endpoint', port, endpoint: endpointRef(plan, e) });
  if (usesClusterChain) t.chain(clusterChain, { kind: 'service', port });
  if (usesLocalChain) t.chain(localChain, { kind: 'local', port });
  if (usesExternalChain) t.chain(externalChain, { kind: 'external', port });

  const key = (address: string, portNumber: number) => `${address} . ${proto} . ${portNumber}`;
  t.element('cluster-ips', { key: plan.clusterIP, value: null, comment: null, why: { kind: 'cluster-ip', port } });
  if (plan.hasInternalEndpoints) {
    t.element('service-ips', { key: key(plan.clusterIP, plan.port.port), value: `goto ${internalChain}`, comment: null, why: { kind: 'dispatch-cluster-ip', port, address: 'ClusterIP' } });
  } else {
    t.element('no-endpoint-services', { key: key(plan.clusterIP, plan.port.port), value: internalVerdict, comment: plan.name, why: { kind: 'no-endpoints', port, address: 'ClusterIP', verdict: verdictWord } });
  }
  for (const [addresses, kind] of [[plan.externalIPs, 'ExternalIP'], [plan.loadBalancerIPs, 'LoadBalancer']] as const) {
    for (const address of addresses) {
      if (plan.hasEndpoints) {
        t.element('service-ips', { key: key(address, plan.port.port), value: `goto ${externalChain}`, comment: null, why: { kind: kind === 'ExternalIP' ? 'dispatch-external-ip' : 'dispatch-load-balancer', port, address: kind } });
      }
      if (!plan.hasExternalEndpoints) {
        t.element('no-endpoint-services', { key: key(address, plan.port.port), value: externalVerdict, comment: plan.name, why: { kind: 'no-endpoints', port, address: kind, verdict: verdictWord } });
      }
    }
  }
  if (plan.port.nodePort) {
    const nodePortKey = `${proto} . ${plan.port.nodePort}`;
    if (plan.hasEndpoints) {
      t.element('service-nodeports', { key: nodePortKey, value: `goto ${externalChain}`, comment: null, why: { kind: 'dispatch-nodeport', port, address: 'NodePort' } });
    }
    if (!plan.hasExternalEndpoints) {
      t.element('no-endpoint-nodeports', { key: nodePortKey, value: externalVerdict, comment: plan.name, why: { kind: 'no-endpoints', port, address: 'NodePort', verdict: verdictWord } });
    }
  }

  if (plan.hasInternalEndpoints) {
    const match = `${ipX} daddr ${plan.clusterIP} ${proto} dport ${plan.port.port}`;
    if (c.masqueradeAll) t.rule(internalChain, `${match} jump mark-for-masquerade`, { kind: 'masquerade-all', port });
    else if (c.podCIDRs.length) t.rule(internalChain, `${match} ${ipX} saddr != ${cidrMatch(c.podCIDRs)} jump mark-for-masquerade`, { kind: 'masquerade-off-cluster', port });
  }
  if (usesExternalChain) {
    if (!plan.externalPolicyLocal) {
      t.rule(externalChain, 'jump mark-for-masquerade', { kind: 'external-masquerade', port });
    } else {
      if (c.podCIDRs.length) t.rule(externalChain, `${ipX} saddr ${cidrMatch(c.podCIDRs)} goto ${clusterChain} comment "short-circuit pod traffic"`, { kind: 'external-pod-short-circuit', port });
      t.rule(externalChain, 'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"', { kind: 'external-local-masquerade', port });
      t.rule(externalChain, `fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`, { kind: 'external-local-short-circuit', port });
    }
    if (plan.hasExternalEndpoints) t.rule(externalChain, `goto ${externalPolicyChain}`, { kind: 'external-policy', port });
  }

  if (plan.affinityTimeout !== null) {
    for (const e of plan.reachableEndpoints) {
      t.set({ kind: 'set', name: affinitySet(e), type: c.addrType, flags: ['dynamic', 'timeout'], timeout: nftDuration(plan.affinityTimeout), comment: null, dynamic: true, port, endpoint: endpointRef(plan, e) });
    }
  }
  const balance = (chain: string, endpoints: PortEndpoint[]) => {
    if (plan.affinityTimeout !== null) {
      for (const e of endpoints) t.rule(chain, `${ipX} saddr @${affinitySet(e)} goto ${endpointChain(e)}`, { kind: 'affinity-check', port, endpoint: endpointRef(plan, e) });
    }
    const choices = endpoints.map((e, i) => `${i} : goto ${endpointChain(e)}`).join(', ');
    t.rule(chain, `numgen random mod ${endpoints.length} vmap { ${choices} }`, { kind: 'balance', port, share: { index: 0, count: endpoints.length, probability: null } });
  };
  if (usesClusterChain) balance(clusterChain, plan.clusterEndpoints);
  if (usesLocalChain) balance(localChain, plan.localEndpoints);

  for (const e of plan.reachableEndpoints) {
    const chain = endpointChain(e);
    const endpoint = endpointRef(plan, e);
    t.rule(chain, `${ipX} saddr ${e.address} jump mark-for-masquerade`, { kind: 'endpoint-hairpin', port, endpoint });
    if (plan.affinityTimeout !== null) t.rule(chain, `update @${affinitySet(e)} { ${ipX} saddr }`, { kind: 'affinity-record', port, endpoint });
    t.rule(chain, `meta l4proto ${proto} dnat to ${endpointString(e.address, e.port)}`, { kind: 'dnat', port, endpoint });
  }
}

