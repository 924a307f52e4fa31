// The Service hop when kube-proxy runs in nftables or iptables mode: the Service port the destination hits
// (kube-proxy's shared plan), the chains and map elements kube-proxy writes for it, the random choice among
// the endpoint chains, and the findings of the node's observed ruleset for exactly those chains and elements.
import { compareIptables, compareNftables, type RulesetComparison } from '../compare/rulesets.ts';
import type { ExpectedRule, ServiceChainWhy } from '../model/types.ts';
import { expectedIptables } from '../model/services/iptables.ts';
import { expectedNftables } from '../model/services/nftables.ts';
import { servicePortPlans, type ServicePortPlan } from '../model/services/ports.ts';
import { parseIptablesSave } from '../parse/iptables-save.ts';
import { parseNftTable } from '../parse/nft.ts';
import { nftElementText } from '../render/nft.ts';
import type { TraceContext } from './context.ts';
import { capitalized } from './context.ts';
import type { Frontend } from './service.ts';
import { type Backend, type ServiceHop, type TableLineRef, TraceError, type Verdict } from './types.ts';

export type RulesMode = 'nftables' | 'iptables';

interface Chain {
  name: string;
  rules: ExpectedRule[];
  why: ServiceChainWhy;
}

/** The Service port `frontend` hits on `node`, and which kind of address it is; null when no Service has it. */
export function planFor(context: TraceContext, node: string, frontend: Frontend): { plan: ServicePortPlan; external: boolean } | null {
  const { address, port, protocol } = frontend;
  for (const plan of servicePortPlans(context.snapshot, node, 'IPv4')) {
    if (plan.port.protocol !== protocol) continue;
    if (plan.clusterIP === address && plan.port.port === port) return { plan, external: false };
    if ((plan.externalIPs.includes(address) || plan.loadBalancerIPs.includes(address)) && plan.port.port === port) return { plan, external: true };
    if (plan.port.nodePort === port && context.snapshot.nodes.find((n) => n.name === node)?.addresses.some((a) => a.address === address)) return { plan, external: true };
  }
  return null;
}

/** The port's chains, the text each rule and element has in the node's table, and the observed comparison. */
function portRules(context: TraceContext, node: string, mode: RulesMode, plan: ServicePortPlan) {
  const ofPort = (why: { port?: { name: string } } | undefined) => why?.port?.name === plan.name;
  const observedText = context.observation?.nodes.find((n) => n.node === node)?.[mode === 'nftables' ? 'nftListTable' : 'iptablesSave'];
  const tool = mode === 'nftables' ? 'nft list table ip kube-proxy' : 'iptables-save';
  let chains: Chain[];
  let elements: string[];
  let comparison: RulesetComparison | { missing: string };
  if (mode === 'nftables') {
    const expected = expectedNftables(context.snapshot, node);
    chains = expected.chains.filter((c) => ofPort(c.why));
    elements = expected.sets.flatMap((s) => s.elements.filter((e) => ofPort(e.why)).map((e) => nftElementText(e)));
    comparison = typeof observedText === 'string' ? tryCompare(() => compareNftables(expected, parseNftTable(observedText, `${node}:${tool}`)))
      : { missing: observedText instanceof Error ? `${tool} failed: ${observedText.message}` : `no ${tool} output of this node was observed` };
  } else {
    const expected = expectedIptables(context.snapshot, node);
    chains = expected.tables.flatMap((t) => t.chains).filter((c) => ofPort(c.why));
    elements = [];
    comparison = typeof observedText === 'string' ? tryCompare(() => compareIptables(expected, parseIptablesSave(observedText, `${node}:${tool}`)))
      : { missing: observedText instanceof Error ? `${tool} failed: ${observedText.message}` : `no ${tool} output of this node was observed` };
  }
  const ruleText = (chain: string, rule: string) => (mode === 'nftables' ? rule : `-A ${chain} ${rule}`);
  const lines = [...elements, ...chains.flatMap((c) => c.rules.map((r) => ruleText(c.name, r.text)))];
  return { chains, lines, comparison, names: new Set(chains.map((c) => c.name)), frontendKey: elements };
}

function tryCompare(compare: () => RulesetComparison): RulesetComparison | { missing: string } {
  try {
    return compare();
  } catch (error) {
    return { missing: (error as Error).message };
  }
}

/**
 * The Service hop in nftables or iptables mode. Backends: the endpoints the plan uses for this kind of
 * address (the local ones under a Local traffic policy), each picked with chance 1/N (nftables: `numgen random
 * mod N`; iptables: a cascade of `statistic mode random probability` rules that comes to the same). Verdicts:
 * findings of the observed ruleset on this port's chains or elements → broken; no endpoint → broken (kube-proxy
 * rejects or drops); not observed → expected; else ok.
 */
export function ruleServiceHop(context: TraceContext, node: string, frontend: Frontend, endpoint: string | undefined, mode: RulesMode): ServiceHop | null {
  const found = planFor(context, node, frontend);
  if (!found) return null;
  const { plan, external } = found;
  const local = external ? plan.externalPolicyLocal : plan.internalPolicyLocal;
  const chosen = local && plan.localEndpoints.length ? plan.localEndpoints : local && !external ? [] : plan.clusterEndpoints;
  const rules = portRules(context, node, mode, plan);
  const observed = 'chains' in rules.comparison ? rules.comparison : null;
  const observedChains = observed ? new Set(observed.chains.filter((c) => c.status !== 'missing').map((c) => c.name)) : null;
  const endpointChain = (address: string, port: number) =>
    rules.chains.find((c) => c.why.kind === 'endpoint' && c.why.endpoint?.address === address && c.why.endpoint.port === port)?.name;
  // nftables mode without affinity has no endpoint chains: the port's chain DNATs to the endpoint itself
  const observedDnat = (address: string, port: number) => observed !== null && observed.chains.some((c) => rules.names.has(c.name)
    && c.rules.some((r) => r.status !== 'missing' && (r.text.includes(`${address} . ${port}`) || r.text.includes(`dnat to ${address}:${port}`))));
  const backends: Backend[] = chosen.map((e) => {
    const ref = e.endpoint.targetRef;
    const chain = endpointChain(e.address, e.port);
    return {
      address: e.address, port: e.port,
      pod: ref?.kind === 'Pod' ? { namespace: ref.namespace, name: ref.name } : null,
      node: e.endpoint.nodeName,
      observed: observedChains === null ? null : chain !== undefined ? observedChains.has(chain) : observedDnat(e.address, e.port),
      followed: false,
      probability: 1 / chosen.length,
    };
  });
  const followed = endpoint !== undefined ? backends.find((b) => b.address === endpoint) : (backends.find((b) => b.observed !== false) ?? backends[0]);
  const key = `${frontend.protocol} ${frontend.address}:${frontend.port}`;
  if (endpoint !== undefined && !followed) throw new TraceError(`--endpoint ${endpoint} is not a backend of ${key} on ${node} (backends: ${backends.map((b) => b.address).join(', ') || 'none'})`);
  if (followed) followed.followed = true;

  const findings = observed
    ? observed.findings.filter((f) => [...rules.names].some((name) => f.key.includes(name)) || rules.frontendKey.some((e) => f.key.includes(e.split(' : ')[0]!)))
    : [];
  let verdict: Verdict;
  let reason: string | null = null;
  if (findings.length) {
    verdict = 'broken';
    reason = findings.map((f) => f.message).join(' ');
  } else if (!backends.length) {
    verdict = 'broken';
    reason = `${key} has no endpoint for this traffic on ${node}: kube-proxy ${plan.hasEndpoints ? 'drops' : 'rejects'} it.`;
  } else if (!observed) {
    verdict = 'expected';
    reason = `${capitalized((rules.comparison as { missing: string }).missing)}.`;
  } else {
    verdict = 'ok';
  }
  const n = backends.length;
  const balancing = mode === 'nftables'
    ? `numgen random mod ${n}: each new connection goes to one of ${n} endpoint${n === 1 ? '' : 's'}, each with chance 1/${n}`
    : `statistic mode random: rule i of ${n} matches with probability 1/(${n}-i), so each endpoint chain gets 1/${n} of the new connections`;
  const persistence = plan.affinityTimeout;
  const lines: TableLineRef[] = rules.lines.map((text) => ({ layer: mode, node, text }));
  return {
    kind: 'service', id: 'service', title: `${key} on ${node}`, node, verdict, reason, lines,
    mechanism: mode,
    service: { namespace: plan.service.namespace, name: plan.service.name, portName: plan.port.name },
    frontend, scheduler: null, persistence, backends,
    balancing: `${balancing}${persistence !== null ? `; ClientIP affinity for ${persistence} s keeps a client on its endpoint` : ''}`,
    explanation: `${key} is Service ${plan.name} (${plan.port.protocol}). kube-proxy in ${mode} mode on ${node} matches it in ${mode === 'nftables' ? 'the service-ips map' : 'KUBE-SERVICES'}, `
      + (mode === 'nftables'
        ? `jumps to the Service's chain, which picks an endpoint (${balancing}) and rewrites the destination to it (DNAT) in one rule (with ClientIP affinity, through one endpoint chain per endpoint).`
        : `jumps to the Service's chain, picks an endpoint chain (${balancing}), and that chain rewrites the destination (DNAT).`)
      + (followed ? ` The trace follows ${followed.address}:${followed.port}${followed.pod ? ` (pod ${followed.pod.namespace}/${followed.pod.name})` : ''}.` : ''),
  };
}
