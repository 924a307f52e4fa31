// The chains and rules kube-proxy in iptables mode keeps on one node, as `iptables-save` prints them.
// Source: kubernetes pkg/proxy/iptables/proxier.go (iptablesJumpChains, syncProxyRules,
// writeServiceToEndpointRules). kube-proxy writes its rules with iptables-restore; iptables-save prints
// them back in a canonical order (addresses, protocol, matches, target) with /32 masks, quoted comments and
// the kernel's rounding of probabilities, which is what the texts below are.
import { cidrContains } from '../../net/ip.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import { findNode } from '../lookup.ts';
import { nodePortAddresses } from '../node-addresses.ts';
import type { PortEndpoint } from '../endpoints.ts';
import type { ExpectedIptablesChain, NodeIptables, ServiceChainWhy, ServiceRuleWhy } from '../types.ts';
import { endpointString, iptablesEndpointChain, iptablesServiceChains } from './names.ts';
import { endpointRef, portRef, type ServicePortPlan, servicePortPlans } from './ports.ts';

/** kube-proxy leaves comments out of per-endpoint rules when the node has more endpoints than this. */
const LARGE_CLUSTER_ENDPOINTS = 1000;
const LOCALHOST_NODEPORT_COUNTER = 'localhost_nps_accepted_pkts';
const INVALID_DROPPED_COUNTER = 'ct_state_invalid_dropped_pkts';

export interface IptablesModelOptions {
  /** nfacct counters exist (nfnetlink_acct and xt_nfacct present, as on a normal node); default true.
   *  Without them kube-proxy leaves the `-m nfacct` rules out. */
  nfacct?: boolean;
}

/** One iptables rule in iptables-save's canonical order; `matches` in the order kube-proxy wrote them. */
interface RuleParts {
  notSource?: string;
  source?: string;
  destination?: string;
  notDestination?: string;
  protocol?: string;
  comment?: string;
  matches?: string[];
  target: string;
}

/** iptables-save prints the nfacct match with two spaces before the counter's name (libxt_nfacct's own format). */
const nfacctMatch = (counter: string) => ['-m', 'nfacct', '--nfacct-name', ` ${counter}`];

const hostCidr = (address: string) => (address.includes('/') ? address : `${address}/32`);

function ruleText(p: RuleParts): string {
  const words: string[] = [];
  if (p.notSource) words.push('!', '-s', hostCidr(p.notSource));
  if (p.source) words.push('-s', hostCidr(p.source));
  if (p.notDestination) words.push('!', '-d', hostCidr(p.notDestination));
  if (p.destination) words.push('-d', hostCidr(p.destination));
  if (p.protocol) words.push('-p', p.protocol);
  if (p.comment !== undefined) words.push('-m', 'comment', '--comment', `"${p.comment}"`);
  words.push(...(p.matches ?? []), '-j', p.target);
  return words.join(' ');
}

/**
 * The probability iptables-save prints for kube-proxy's 1/n: kube-proxy writes it with 10 decimals, the
 * statistic match keeps it as a 31-bit fraction (lround(p * 2^31)) and iptables prints that with 11 decimals.
 */
export function printedProbability(n: number): string {
  let printed = PROBABILITIES.get(n);
  if (printed === undefined) {
    const written = Number((1 / n).toFixed(10));
    PROBABILITIES.set(n, (printed = (Math.round(written * 0x80000000) / 0x80000000).toFixed(11)));
  }
  return printed;
}
const PROBABILITIES = new Map<number, string>();

class Tables {
  readonly tables = new Map<string, Map<string, ExpectedIptablesChain>>();

  chain(table: string, name: string, why: ServiceChainWhy, policy = '-'): void {
    let chains = this.tables.get(table);
    if (!chains) this.tables.set(table, (chains = new Map()));
    if (!chains.has(name)) chains.set(name, { name, policy, rules: [], why });
  }

  rule(table: string, chain: string, parts: RuleParts, why: ServiceRuleWhy): void {
    this.tables.get(table)!.get(chain)!.rules.push({ text: ruleText(parts), why });
  }
}

const BUILT_IN: Record<string, string[]> = { filter: ['INPUT', 'FORWARD', 'OUTPUT'], nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'], mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'] };

/** kube-proxy's jump rules: [table, from, to, comment, extra match]. Each is prepended, so later ones come first. */
const JUMPS: [string, string, string, string | null, string[]][] = [
  ['filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'INPUT', 'KUBE-NODEPORTS', 'kubernetes health check service ports', []],
  ['filter', 'FORWARD', 'KUBE-SERVICES', 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules', []],
  ['filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', []],
  ['nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals', []],
  ['nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules', []],
  ['filter', 'INPUT', 'KUBE-FIREWALL', null, []],
  ['filter', 'OUTPUT', 'KUBE-FIREWALL', null, []],
];

/**
 * What kube-proxy (iptables mode, IPv4) programs on `nodeName`, per table. The endpoint choice is shared
 * with the other modes (ServicePortPlan). Per Service port:
 * - nat KUBE-SERVICES sends the ClusterIP (with internal endpoints), externalIPs and LB IPs (with any
 *   endpoint) to the port's KUBE-SVC-/KUBE-SVL-/KUBE-EXT- chain; KUBE-NODEPORTS does it for the nodePort;
 * - without endpoints, filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES REJECT (none at all) or DROP
 *   (traffic policy Local, none on this node);
 * - KUBE-SVC-/KUBE-SVL-: masquerade marking for off-cluster clients, `recent` checks for ClientIP
 *   affinity, then one rule per endpoint with `statistic` probability 1/n, 1/(n-1), …, the last one always;
 * - KUBE-SEP- per reachable endpoint: mark if the pod talks to itself, record affinity, DNAT.
 * LoadBalancer source ranges (KUBE-FW-) and health check node ports are not modelled: the snapshot does
 * not carry them. nodePortAddresses other than "all" (one KUBE-SERVICES rule per node address) are not
 * modelled either.
 */
export function expectedIptables(snapshot: ClusterSnapshot, nodeName: string, options: IptablesModelOptions = {}): NodeIptables {
  const proxy = snapshot.kubeProxy;
  const nfacct = options.nfacct ?? true;
  const mark = `0x${(2 ** proxy.masqueradeBit).toString(16)}`;
  const plans = servicePortPlans(snapshot, nodeName, 'IPv4');
  const podCIDR = proxy.clusterCIDRs.find((cidr) => !cidr.includes(':')) ?? null;
  // kube-proxy turns localhostNodePorts off unless nodePortAddresses lets NodePorts answer on 127.0.0.1
  const within = nodePortAddresses(findNode(snapshot, nodeName), 'IPv4', proxy.nodePortAddresses, null).within;
  const localhostNodePorts = proxy.localhostNodePorts && (within === null || within.some((cidr) => cidrContains(cidr, '127.0.0.1')));
  const largeCluster = plans.reduce((sum, plan) => sum + plan.endpointCount, 0) > LARGE_CLUSTER_ENDPOINTS;
  const t = new Tables();
  const plumbing: ServiceChainWhy = { kind: 'plumbing' };

  for (const [table, chains] of Object.entries(BUILT_IN)) for (const chain of chains) t.chain(table, chain, { kind: 'base' }, 'ACCEPT');
  for (const table of ['mangle', 'nat', 'filter']) t.chain(table, 'KUBE-PROXY-CANARY', plumbing);
  for (const [table, from, to, comment, extra] of [...JUMPS].reverse()) {
    if (to === 'KUBE-FIREWALL' && !localhostNodePorts) continue;
    t.chain(table, to, plumbing);
    t.rule(table, from, { matches: [...extra, ...(comment ? ['-m', 'comment', '--comment', `"${comment}"`] : [])], target: to }, { kind: 'hook', from });
  }
  for (const chain of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) t.chain('nat', chain, plumbing);
  t.rule('nat', 'KUBE-POSTROUTING', { matches: ['-m', 'mark', '!', '--mark', `${mark}/${mark}`], target: 'RETURN' }, { kind: 'masquerade-skip-unmarked' });
  t.rule('nat', 'KUBE-POSTROUTING', { target: `MARK --set-xmark ${mark}/0x0` }, { kind: 'masquerade-clear-mark' });
  t.rule('nat', 'KUBE-POSTROUTING', { comment: 'kubernetes service traffic requiring SNAT', target: 'MASQUERADE --random-fully' }, { kind: 'masquerade' });
  t.rule('nat', 'KUBE-MARK-MASQ', { target: `MARK --set-xmark ${mark}/${mark}` }, { kind: 'mark-for-masquerade' });
  if (localhostNodePorts) {
    t.rule('filter', 'KUBE-FIREWALL', {
      notSource: '127.0.0.0/8', destination: '127.0.0.0/8', comment: 'block incoming localnet connections',
      matches: ['-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT'], target: 'DROP',
    }, { kind: 'block-localnet' });
  }

  const context: PortContext = { t, podCIDR, masqueradeAll: proxy.masqueradeAll, largeCluster, localhostNodePorts, nfacct };
  for (const plan of plans) addServicePort(context, plan);

  t.rule('nat', 'KUBE-SERVICES', {
    notDestination: localhostNodePorts ? undefined : '127.0.0.0/8',
    comment: 'kubernetes service nodeports; NOTE: this must be the last rule in this chain',
    matches: ['-m', 'addrtype', '--dst-type', 'LOCAL'], target: 'KUBE-NODEPORTS',
  }, { kind: 'to-nodeports' });
  t.rule('filter', 'KUBE-FORWARD', {
    matches: ['-m', 'conntrack', '--ctstate', 'INVALID', ...(nfacct ? nfacctMatch(INVALID_DROPPED_COUNTER) : [])], target: 'DROP',
  }, { kind: 'forward-drop-invalid' });
  t.rule('filter', 'KUBE-FORWARD', { comment: 'kubernetes forwarding rules', matches: ['-m', 'mark', '--mark', `${mark}/${mark}`], target: 'ACCEPT' }, { kind: 'forward-accept-marked' });
  t.rule('filter', 'KUBE-FORWARD', { comment: 'kubernetes forwarding conntrack rule', matches: ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'], target: 'ACCEPT' }, { kind: 'forward-accept-established' });

  return { node: nodeName, tables: [...t.tables].map(([name, chains]) => ({ name, chains: [...chains.values()] })) };
}

interface PortContext {
  t: Tables;
  podCIDR: string | null;
  masqueradeAll: boolean;
  largeCluster: boolean;
  localhostNodePorts: boolean;
  nfacct: boolean;
}

function addServicePort(c: PortContext, plan: ServicePortPlan): void {
  const { t } = c;
  const port = portRef(plan);
  const proto = port.protocol;
  const name = plan.name;
  const chainName = iptablesServiceChains(name, proto);
  const clusterChain = chainName('KUBE-SVC-');
  const localChain = chainName('KUBE-SVL-');
  const externalChain = chainName('KUBE-EXT-');
  // each endpoint's chain name is a SHA-256: worked out once per endpoint, not once per rule that names it
  const endpointChains = new Map<PortEndpoint, string>();
  const endpointChain = (e: PortEndpoint) => {
    let chain = endpointChains.get(e);
    if (chain === undefined) endpointChains.set(e, (chain = iptablesEndpointChain(name, proto, endpointString(e.address, e.port))));
    return chain;
  };
  const usesClusterChain = plan.clusterEndpoints.length > 0 && plan.usesClusterEndpoints;
  const usesLocalChain = plan.localEndpoints.length > 0 && plan.usesLocalEndpoints;
  const internalChain = plan.internalPolicyLocal ? localChain : clusterChain;
  const externalPolicyChain = plan.externalPolicyLocal ? localChain : clusterChain;
  const usesExternalChain = plan.hasEndpoints && plan.externallyAccessible;
  const [filterTarget, filterComment, verdict] = plan.hasEndpoints
    ? ['DROP', `${name} has no local endpoints`, 'drop'] as const
    : ['REJECT --reject-with icmp-port-unreachable', `${name} has no endpoints`, 'reject'] as const;
  const dport = (n: number) => ['-m', proto, '--dport', String(n)];
  const serviceComment = (text: string) => (c.largeCluster ? undefined : text);

  if (plan.hasInternalEndpoints) {
    t.rule('nat', 'KUBE-SERVICES', { destination: plan.clusterIP, protocol: proto, comment: `${name} cluster IP`, matches: dport(plan.port.port), target: internalChain }, { kind: 'dispatch-cluster-ip', port, address: 'ClusterIP' });
  } else {
    t.rule('filter', 'KUBE-SERVICES', { destination: plan.clusterIP, protocol: proto, comment: filterComment, matches: dport(plan.port.port), target: filterTarget }, { kind: 'no-endpoints', port, address: 'ClusterIP', verdict });
  }
  for (const [addresses, kind, words] of [[plan.externalIPs, 'ExternalIP', 'external IP'], [plan.loadBalancerIPs, 'LoadBalancer', 'loadbalancer IP']] as const) {
    for (const address of addresses) {
      if (plan.hasEndpoints) {
        t.rule('nat', 'KUBE-SERVICES', { destination: address, protocol: proto, comment: `${name} ${words}`, matches: dport(plan.port.port), target: externalChain }, { kind: kind === 'ExternalIP' ? 'dispatch-external-ip' : 'dispatch-load-balancer', port, address: kind });
      }
      if (!plan.hasExternalEndpoints) {
        t.rule('filter', 'KUBE-EXTERNAL-SERVICES', { destination: address, protocol: proto, comment: filterComment, matches: dport(plan.port.port), target: filterTarget }, { kind: 'no-endpoints', port, address: kind, verdict });
      }
    }
  }
  if (plan.port.nodePort) {
    if (plan.hasEndpoints) {
      if (c.localhostNodePorts && c.nfacct) {
        t.rule('nat', 'KUBE-NODEPORTS', {
          destination: '127.0.0.0/8', protocol: proto, comment: name,
          matches: [...dport(plan.port.nodePort), ...nfacctMatch(LOCALHOST_NODEPORT_COUNTER)], target: externalChain,
        }, { kind: 'dispatch-nodeport-localhost', port, address: 'NodePort' });
      }
      t.rule('nat', 'KUBE-NODEPORTS', { protocol: proto, comment: name, matches: dport(plan.port.nodePort), target: externalChain }, { kind: 'dispatch-nodeport', port, address: 'NodePort' });
    }
    if (!plan.hasExternalEndpoints) {
      t.rule('filter', 'KUBE-EXTERNAL-SERVICES', {
        protocol: proto, comment: filterComment, matches: ['-m', 'addrtype', '--dst-type', 'LOCAL', ...dport(plan.port.nodePort)], target: filterTarget,
      }, { kind: 'no-endpoints', port, address: 'NodePort', verdict });
    }
  }

  for (const [chain, used, kind] of [[externalChain, usesExternalChain, 'external'], [clusterChain, usesClusterChain, 'service'], [localChain, usesLocalChain, 'local']] as const) {
    if (used) t.chain('nat', chain, { kind, port });
  }
  if (plan.hasInternalEndpoints) {
    const masq = { destination: plan.clusterIP, protocol: proto, comment: `${name} cluster IP`, matches: dport(plan.port.port), target: 'KUBE-MARK-MASQ' };
    if (c.masqueradeAll) t.rule('nat', internalChain, masq, { kind: 'masquerade-all', port });
    else if (c.podCIDR) t.rule('nat', internalChain, { ...masq, notSource: c.podCIDR }, { kind: 'masquerade-off-cluster', port });
  }
  if (usesExternalChain) {
    if (!plan.externalPolicyLocal) {
      t.rule('nat', externalChain, { comment: `masquerade traffic for ${name} external destinations`, target: 'KUBE-MARK-MASQ' }, { kind: 'external-masquerade', port });
    } else {
      if (c.podCIDR) t.rule('nat', externalChain, { source: c.podCIDR, comment: `pod traffic for ${name} external destinations`, target: clusterChain }, { kind: 'external-pod-short-circuit', port });
      t.rule('nat', externalChain, { comment: `masquerade LOCAL traffic for ${name} external destinations`, matches: ['-m', 'addrtype', '--src-type', 'LOCAL'], target: 'KUBE-MARK-MASQ' }, { kind: 'external-local-masquerade', port });
      t.rule('nat', externalChain, { comment: `route LOCAL traffic for ${name} external destinations`, matches: ['-m', 'addrtype', '--src-type', 'LOCAL'], target: clusterChain }, { kind: 'external-local-short-circuit', port });
    }
    if (plan.hasExternalEndpoints) t.rule('nat', externalChain, { target: externalPolicyChain }, { kind: 'external-policy', port });
  }

  const balance = (chain: string, endpoints: PortEndpoint[]) => {
    if (plan.affinityTimeout !== null) {
      for (const e of endpoints) {
        t.rule('nat', chain, {
          comment: serviceComment(`${name} -> ${endpointString(e.address, e.port)}`),
          matches: ['-m', 'recent', '--rcheck', '--seconds', String(plan.affinityTimeout), '--reap', '--name', endpointChain(e), '--mask', '255.255.255.255', '--rsource'],
          target: endpointChain(e),
        }, { kind: 'affinity-check', port, endpoint: endpointRef(plan, e) });
      }
    }
    endpoints.forEach((e, i) => {
      const last = i === endpoints.length - 1;
      const probability = last ? null : printedProbability(endpoints.length - i);
      t.rule('nat', chain, {
        comment: serviceComment(`${name} -> ${endpointString(e.address, e.port)}`),
        matches: probability ? ['-m', 'statistic', '--mode', 'random', '--probability', probability] : [],
        target: endpointChain(e),
      }, { kind: 'balance', port, endpoint: endpointRef(plan, e), share: { index: i, count: endpoints.length, probability } });
    });
  };
  if (usesClusterChain) balance(clusterChain, plan.clusterEndpoints);
  if (usesLocalChain) balance(localChain, plan.localEndpoints);

  for (const e of plan.reachableEndpoints) {
    const chain = endpointChain(e);
    const endpoint = endpointRef(plan, e);
    t.chain('nat', chain, { kind: 'endpoint', port, endpoint });
    t.rule('nat', chain, { source: e.address, comment: serviceComment(name), target: 'KUBE-MARK-MASQ' }, { kind: 'endpoint-hairpin', port, endpoint });
    const affinity = plan.affinityTimeout !== null ? ['-m', 'recent', '--set', '--name', chain, '--mask', '255.255.255.255', '--rsource'] : [];
    t.rule('nat', chain, { protocol: proto, comment: serviceComment(name), matches: [...affinity, '-m', proto], target: `DNAT --to-destination ${endpointString(e.address, e.port)}` }, { kind: 'dnat', port, endpoint });
  }
}
