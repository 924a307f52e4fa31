// One Service seen in kube-proxy's three modes side by side: the endpoint choice they share (once), then
// what IPVS, nftables and iptables mode each program for it on one node, every line explained. This is the
// model's view; `netlab check` compares whichever mode the node runs with what it really shows.
import type { PortEndpoint } from '../model/endpoints.ts';
import { expectedIpvs } from '../model/ipvs.ts';
import { expectedIptables } from '../model/services/iptables.ts';
import { expectedNftables } from '../model/services/nftables.ts';
import { type ServicePortPlan, servicePortPlans } from '../model/services/ports.ts';
import type { PortRef, ServiceChainWhy, ServiceRuleWhy } from '../model/types.ts';
import { nftElementText } from '../render/nft.ts';
import type { ClusterSnapshot } from '../snapshot/types.ts';
import { annotateExpectedVirtualServer } from './ipvs.ts';
import { explainServiceChain, explainServiceRule } from './service-rules.ts';
import type { AnnotatedLine } from './types.ts';

export interface ServiceModesView {
  service: string; // ns/name
  node: string;
  /** the mode kube-proxy is configured with in the snapshot */
  configuredMode: string;
  /** the endpoint choice, per port: the same in every mode */
  choice: AnnotatedLine[];
  ipvs: AnnotatedLine[];
  nftables: AnnotatedLine[];
  iptables: AnnotatedLine[];
}

const ofService = (namespace: string, name: string) => (ref: PortRef | undefined) => ref?.namespace === namespace && ref.service === name;

function endpointLine(plan: ServicePortPlan, e: PortEndpoint, why: string): AnnotatedLine {
  const ref = e.endpoint.targetRef;
  const who = ref?.kind === 'Pod' ? `pod ${ref.namespace}/${ref.name}` : 'no pod';
  return { text: `    ${e.address}:${e.port}  ${who}${e.endpoint.nodeName ? ` on ${e.endpoint.nodeName}` : ''}${e.local ? ' (this node)' : ''}`, status: 'info', explanation: why };
}

/** The shared decision: which endpoints each traffic policy uses, and what happens without any. */
function choiceLines(plans: ServicePortPlan[]): AnnotatedLine[] {
  const lines: AnnotatedLine[] = [];
  for (const plan of plans) {
    const p = plan.port;
    lines.push({
      text: `port ${p.name ? `"${p.name}" ` : ''}${p.port}/${p.protocol}${p.nodePort ? ` (NodePort ${p.nodePort})` : ''} -> ClusterIP ${plan.clusterIP}`,
      status: 'info',
      explanation: `internalTrafficPolicy ${plan.internalPolicyLocal ? 'Local' : 'Cluster'}, externalTrafficPolicy ${plan.externalPolicyLocal ? 'Local' : 'Cluster'}`
        + `${plan.affinityTimeout !== null ? `, sessionAffinity ClientIP (${plan.affinityTimeout} s)` : ''}.`
        + (plan.hasEndpoints ? '' : ' No endpoint can take traffic: every mode refuses connections to it.'),
    });
    if (plan.usesClusterEndpoints) {
      const n = plan.clusterEndpoints.length;
      for (const e of plan.clusterEndpoints) lines.push(endpointLine(plan, e, `Cluster policy: chosen with probability 1/${n} for a new connection (${plan.categorized.cluster?.reason === 'serving-terminating' ? 'terminating but serving, as none is ready' : 'ready'}).`));
    }
    if (plan.usesLocalEndpoints) {
      if (plan.localEndpoints.length === 0) lines.push({ text: '    (no endpoint on this node)', status: 'info', explanation: 'Local policy: nothing on this node, so outside traffic is dropped here.' });
      for (const e of plan.localEndpoints) lines.push(endpointLine(plan, e, `Local policy: one of ${plan.localEndpoints.length} endpoints on this node, each with probability 1/${plan.localEndpoints.length}.`));
    }
  }
  return lines;
}

export function serviceModes(snapshot: ClusterSnapshot, namespace: string, name: string, node: string): ServiceModesView {
  const service = snapshot.services.find((s) => s.namespace === namespace && s.name === name);
  if (!service) throw new Error(`Service ${namespace}/${name} is not in the snapshot`);
  const mine = ofService(namespace, name);
  const plans = servicePortPlans(snapshot, node, 'IPv4').filter((plan) => plan.service === service);
  const choice = plans.length ? choiceLines(plans) : [{
    text: `${namespace}/${name}: ${service.headless ? 'headless (clusterIP: None)' : service.type === 'ExternalName' ? `ExternalName ${service.externalName}` : 'no IPv4 ClusterIP'}`,
    status: 'info' as const,
    explanation: 'kube-proxy programs nothing for it in any mode: clients reach the pods (or the external name) through DNS alone.',
  }];

  const ipvs = expectedIpvs(snapshot, node).services
    .filter((vs) => vs.why.namespace === namespace && vs.why.service === name)
    .flatMap((vs) => annotateExpectedVirtualServer(vs, 'expected'));

  const nft = expectedNftables(snapshot, node);
  const ruleLine = (text: string, why: ServiceRuleWhy, mode: 'nftables' | 'iptables'): AnnotatedLine => ({ text, status: 'expected', explanation: explainServiceRule(why, text, mode) });
  const chainLine = (text: string, why: ServiceChainWhy, chain: string, mode: 'nftables' | 'iptables'): AnnotatedLine => ({ text, status: 'expected', explanation: explainServiceChain(why, chain, mode) });
  const nftables: AnnotatedLine[] = [];
  for (const set of nft.sets) {
    for (const e of set.elements.filter((el) => mine(el.why.port))) nftables.push(ruleLine(`${set.kind} ${set.name}: ${nftElementText(e)}`, e.why, 'nftables'));
  }
  for (const chain of nft.chains.filter((c) => mine(c.why.port))) {
    nftables.push(chainLine(`chain ${chain.name} {`, chain.why, chain.name, 'nftables'));
    for (const rule of chain.rules) nftables.push(ruleLine(`\t${rule.text}`, rule.why, 'nftables'));
  }

  const iptables: AnnotatedLine[] = [];
  for (const table of expectedIptables(snapshot, node).tables) {
    for (const chain of table.chains) {
      const own = mine(chain.why.port);
      const rules = chain.rules.filter((r) => own || mine(r.why.port));
      if (!own && rules.length === 0) continue;
      if (own) iptables.push(chainLine(`*${table.name} :${chain.name}`, chain.why, chain.name, 'iptables'));
      for (const rule of rules) iptables.push(ruleLine(`-A ${chain.name} ${rule.text}`, rule.why, 'iptables'));
    }
  }
  return { service: `${namespace}/${name}`, node, configuredMode: snapshot.kubeProxy.mode, choice, ipvs, nftables, iptables };
}
