// Plain-word explanations of every rule, map element and chain kube-proxy writes in nftables and iptables
// mode, and the annotated listings of one node. Both modes say the same thing in the same words: the
// model tags each rule with what it does (ServiceRuleKind), whatever its syntax.
import type { ComparedChain, ComparedSet, RulesetComparison } from '../compare/rulesets.ts';
import type { EndpointRef, PortRef, ServiceChainWhy, ServiceRuleWhy } from '../model/types.ts';
import { nftElementText } from '../render/nft.ts';
import type { AnnotatedLine, LineStatus } from './types.ts';

export type ProxyMode = 'nftables' | 'iptables';

export function portWords(p: PortRef): string {
  return `Service ${p.namespace}/${p.service}${p.portName ? ` port "${p.portName}"` : ''} (${p.protocol.toUpperCase()})`;
}

function endpointWords(e: EndpointRef): string {
  const who = e.pod ? `pod ${e.namespace}/${e.pod}${e.node ? ` on ${e.node}` : ''}` : 'an endpoint without a pod';
  const why = {
    ready: '',
    'serving-terminating': ', terminating but still serving (used because none is ready)',
    local: ', on this node',
    'local-serving-terminating': ', on this node, terminating but still serving',
  }[e.reason];
  return `${e.address}:${e.port} (${who}${why})`;
}

/** The chain a rule jumps or goes to: the word after its last jump/goto. */
function targetOf(text: string): string {
  return /(?:jump|goto|-j) (\S+)(?: comment "[^"]*")?$/.exec(text)?.[1] ?? 'kube-proxy\'s chain';
}

export function explainServiceRule(why: ServiceRuleWhy, text: string, mode: ProxyMode): string {
  const port = why.port ? portWords(why.port) : '';
  const to = targetOf(text);
  const ep = why.endpoint ? endpointWords(why.endpoint) : '';
  switch (why.kind) {
    case 'hook':
      return `Packets passing ${why.from} go through kube-proxy's ${to}: this is how the kernel's ${mode === 'nftables' ? 'hook' : 'built-in chain'} reaches kube-proxy's rules.`;
    case 'mark-for-masquerade':
      return 'Sets kube-proxy\'s bit in the packet mark, meaning "masquerade this packet when it leaves the node". Rules jump here when the reply would not come back through this node otherwise.';
    case 'masquerade-skip-unmarked':
      return 'Packets without the masquerade bit leave with their source unchanged.';
    case 'masquerade-clear-mark':
      return 'Clears the bit again, so a packet that passes through the stack twice is not masqueraded twice.';
    case 'masquerade':
      return 'Rewrites the source to this node\'s address (with a fully random source port), so the endpoint replies to this node, which undoes the NAT.';
    case 'masquerade-hairpin':
      return 'Masquerades a DNATed connection whose source and new destination are the same pod (listed in hairpin-connections): a pod that reached itself through its Service gets the reply from the Service address, not from itself.';
    case 'hairpin':
      return `${ep} runs on this node: if it calls ${port} and is chosen itself, the connection is masqueraded (hairpin).`;
    case 'balance-dnat':
      return `Chooses one of the ${why.share!.count} endpoints at random (each gets 1/${why.share!.count} of the new connections) and rewrites the destination to it, in one rule.`;
    case 'dispatch-service-ips':
      return 'One lookup of destination address . protocol . port in the service-ips verdict map sends the packet to the chain of its Service port: one rule for all Services, however many there are.';
    case 'dispatch-nodeports':
      return 'For packets to one of this node\'s own addresses (not loopback): one lookup of protocol . port in service-nodeports finds the NodePort\'s chain.';
    case 'check-no-endpoints':
      return 'New connections to a Service address are looked up in no-endpoint-services before any NAT: a port without endpoints is rejected here, so the client gets "connection refused" at once instead of a timeout.';
    case 'check-nodeport-no-endpoints':
      return 'The same check for NodePorts, in no-endpoint-nodeports.';
    case 'check-firewall':
      return 'Destinations listed in firewall-ips (LoadBalancer IPs with loadBalancerSourceRanges) go to a chain that drops other sources.';
    case 'reject':
      return 'The reject helper: answers with ICMP port unreachable (a TCP reset for TCP), so clients fail fast.';
    case 'cluster-ip-bad-port':
      return 'A packet still addressed to a ClusterIP after NAT was not for any port of its Service: it is rejected instead of wandering off the node.';
    case 'cluster-ip-unallocated':
      return 'Packets to an address of the Service range that no Service has are dropped.';
    case 'forward-drop-invalid':
      return 'Drops forwarded packets conntrack calls INVALID (e.g. out of the TCP window), which could otherwise reset Service connections.';
    case 'forward-accept-marked':
      return 'Accepts forwarded packets carrying the masquerade bit, so Service traffic passes even when the FORWARD policy is DROP.';
    case 'forward-accept-established':
      return 'Accepts the rest of the connections let in above.';
    case 'block-localnet':
      return 'Drops packets to 127.0.0.0/8 that come from elsewhere: NodePorts on localhost need route_localnet, which would otherwise let such packets in.';
    case 'to-nodeports':
      return 'The last rule of KUBE-SERVICES: a packet to one of this node\'s own addresses that matched no Service address is tried as a NodePort in KUBE-NODEPORTS.';
    case 'cluster-ip':
      return `The ClusterIP of ${port}: listed so that traffic to it on a port the Service does not have is rejected.`;
    case 'dispatch-cluster-ip':
      return `Traffic to the ClusterIP of ${port} goes to ${to}.`;
    case 'dispatch-external-ip':
      return `Traffic to an externalIP of ${port} goes to ${to}, where the external traffic policy applies.`;
    case 'dispatch-load-balancer':
      return `Traffic to the load balancer IP of ${port} is handled on the node without leaving it: it goes to ${to}.`;
    case 'dispatch-nodeport':
      return `Traffic to the NodePort of ${port} on any of this node's addresses goes to ${to}.`;
    case 'dispatch-nodeport-localhost':
      return `The NodePort of ${port} on 127.0.0.1 (localhostNodePorts), counted in an nfacct counter, goes to ${to}.`;
    case 'no-endpoints':
      return why.verdict === 'reject'
        ? `${port} has no endpoint that can take traffic (none ready, none serving): connections to its ${why.address} are rejected at once.`
        : `${port} has traffic policy Local and no usable endpoint on this node: traffic from outside to its ${why.address} is dropped here (clients inside the cluster are short-circuited to all endpoints first).`;
    case 'masquerade-off-cluster':
      return `Packets to ${why.port ? `the ClusterIP of ${port}` : 'any ClusterIP (the cluster-ips set)'} that do not come from the pod network (the node itself, or a network routed here) are marked for masquerade, so the reply comes back through this node.`;
    case 'masquerade-all':
      return `masqueradeAll: every packet to ${why.port ? `the ClusterIP of ${port}` : 'any ClusterIP'} is marked for masquerade.`;
    case 'affinity-check':
      return `sessionAffinity ClientIP: a client seen recently (its address is in ${mode === 'nftables' ? 'the affinity set' : 'the recent list'} of ${ep}) goes back to the same endpoint.`;
    case 'balance': {
      const share = why.share!;
      if (mode === 'nftables') return `Chooses one of the ${share.count} endpoint chains at random: each gets 1/${share.count} of the new connections.`;
      if (share.probability === null) {
        return share.count === 1 ? `The only endpoint, ${ep}: every new connection goes to it.` : `Whatever the rules above left: ${ep}, so it too gets 1/${share.count} of the new connections.`;
      }
      return `Taken with probability ${share.probability} (1/${share.count - share.index} of the connections that reach this rule), so ${ep} gets 1/${share.count} of all new connections.`;
    }
    case 'external-masquerade':
      return `externalTrafficPolicy Cluster: traffic from outside may go to a pod on another node, so it is marked for masquerade (the pod sees this node as the client).`;
    case 'external-pod-short-circuit':
      return 'A pod of this cluster calling the external address is treated like ClusterIP traffic: it may use every endpoint.';
    case 'external-local-masquerade':
      return 'Traffic from this node itself to the external address is marked for masquerade (its source is a node address).';
    case 'external-local-short-circuit':
      return 'and is sent to every endpoint, like ClusterIP traffic.';
    case 'external-policy':
      return `Everything else goes to ${to}: the endpoints its external traffic policy allows.`;
    case 'endpoint-hairpin':
      return `If the pod ${ep} called its own Service and was chosen, the packet is marked for masquerade, so the reply does not go straight back to itself (hairpin).`;
    case 'affinity-record':
      return `Records the client's address for ${ep}, so the affinity check sends it here again until it has been idle for the timeout.`;
    case 'dnat':
      return `Rewrites the destination to ${ep}: this is the NAT that delivers the connection.`;
  }
}

export function explainServiceChain(why: ServiceChainWhy | null, name: string, mode: ProxyMode): string {
  if (!why) return `Chain ${name} is not one kube-proxy writes for the cluster as it is.`;
  const port = why.port ? portWords(why.port) : '';
  switch (why.kind) {
    case 'base':
      return mode === 'nftables' ? `Base chain ${name}: attached to a netfilter hook, it runs for every packet there.` : `Built-in chain ${name}: kube-proxy only adds its jump rules here.`;
    case 'plumbing':
      return `kube-proxy's chain ${name}, the same on every node.`;
    case 'service':
      return `The endpoints of ${port} under traffic policy Cluster: every usable endpoint in the cluster.`;
    case 'local':
      return `The endpoints of ${port} under traffic policy Local: only those on this node.`;
    case 'external':
      return `Traffic to ${port} from outside its ClusterIP (NodePort, externalIP, load balancer): the special cases first, then the external traffic policy.`;
    case 'endpoint':
      return `One endpoint of ${port}: ${endpointWords(why.endpoint!)}.`;
  }
}

const statusOf = (s: string): LineStatus => (s === 'stale' ? 'draining' : (s as LineStatus));

function chainLines(chain: ComparedChain, mode: ProxyMode, iptablesRules: boolean): AnnotatedLine[] {
  const chainStatus = statusOf(chain.status);
  let explanation = explainServiceChain(chain.why, chain.name, mode);
  if (chain.status === 'stale') explanation = 'An empty chain of an endpoint or Service that went away: kube-proxy flushes such chains at once and deletes them at a later sync.';
  const lines: AnnotatedLine[] = mode === 'nftables'
    ? [{ text: `\tchain ${chain.name} {`, status: chainStatus, explanation }, ...(chain.header ? [{ text: `\t\t${chain.header}`, status: 'info' as const, explanation: 'The hook, and the priority among other tables\' chains on it.' }] : [])]
    : [{ text: `:${chain.name} ${chain.header ?? '-'} [0:0]`, status: chainStatus, explanation }];
  for (const rule of chain.rules) {
    const text = iptablesRules ? `-A ${chain.name} ${rule.text}` : `\t\t${rule.text}`;
    const base = rule.why ? explainServiceRule(rule.why, rule.text, mode) : 'A rule kube-proxy would not write here for the cluster as it is.';
    lines.push({ text, status: statusOf(rule.status), explanation: base });
  }
  if (mode === 'nftables') lines.push({ text: '\t}', status: 'info', explanation: `End of chain ${chain.name}.` });
  return lines;
}

function setLines(set: ComparedSet): AnnotatedLine[] {
  const header: AnnotatedLine = {
    text: `\t${set.kind} ${set.name} {`, status: statusOf(set.status),
    explanation: set.dynamic
      ? 'A session affinity set: the clients seen recently, each kept until it has been idle for the timeout. Its elements are live data and are not compared.'
      : set.set?.comment ? `${set.set.comment}.` : 'A set or map kube-proxy would not keep for the cluster as it is.',
  };
  const lines = [header];
  for (const e of set.elements) {
    let explanation = e.why ? explainServiceRule(e.why, e.element.value ?? '', 'nftables') : set.dynamic ? 'A client recorded for session affinity.' : 'An element kube-proxy would not write for the cluster as it is.';
    if (e.expected) explanation += ` Expected: ${nftElementText(e.expected)}.`;
    lines.push({ text: `\t\t${nftElementText(e.element)}`, status: statusOf(e.status), explanation });
  }
  lines.push({ text: '\t}', status: 'info', explanation: `End of ${set.kind} ${set.name}.` });
  return lines;
}

/** The node's table of one family (ip or ip6) with every line explained, missing lines where they belong. */
export function annotateNftables(cmp: RulesetComparison, family: 'ip' | 'ip6' = 'ip'): AnnotatedLine[] {
  const which = family === 'ip' ? 'IPv4' : 'IPv6';
  return [
    { text: `table ${family} kube-proxy {`, status: 'info', explanation: `kube-proxy's own table for ${which} Services and endpoints: nothing else writes here, so every line of it is compared.` },
    ...cmp.sets.flatMap(setLines),
    ...cmp.chains.flatMap((c) => chainLines(c, 'nftables', false)),
    { text: '}', status: 'info', explanation: `End of the table ${family} kube-proxy.` },
  ];
}

/** iptables-save's tables with kube-proxy's chains and rules explained; other programs' chains are left out. */
export function annotateIptables(cmp: RulesetComparison): AnnotatedLine[] {
  const lines: AnnotatedLine[] = [];
  for (const table of [...new Set(cmp.chains.map((c) => c.table))]) {
    lines.push({ text: `*${table}`, status: 'info', explanation: `The ${table} table.` });
    for (const chain of cmp.chains.filter((c) => c.table === table)) lines.push(...chainLines(chain, 'iptables', true));
    lines.push({ text: 'COMMIT', status: 'info', explanation: `End of the ${table} table (iptables-restore applies a table at once).` });
  }
  return lines;
}
