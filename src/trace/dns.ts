// The name-resolution hop: the source pod's resolv.conf, the queries its resolver sends in order, and the
// answers CoreDNS must give (and gave, when observed).
import { compareResolvConf } from '../compare/resolvconf.ts';
import { answerText } from '../compare/dns.ts';
import { dnsExpectationFor, UnpredictableDnsQuery } from '../model/dns/index.ts';
import { expectedResolvConf } from '../model/resolvconf.ts';
import type { DnsAnswer } from '../model/types.ts';
import { parseResolvConf } from '../parse/resolvconf.ts';
import type { ResolvConf } from '../parse/types.ts';
import type { PodView } from '../snapshot/types.ts';
import type { TraceContext } from './context.ts';
import { ndotsOf, searchListExpansion } from './search-list.ts';
import type { DnsHop, DnsQueryStep, TableLineRef, Verdict } from './types.ts';

const sameAnswer = (a: DnsAnswer, b: DnsAnswer) =>
  a.rcode === b.rcode && JSON.stringify(a.answers.map((r) => `${r.type} ${r.data}`).sort()) === JSON.stringify(b.answers.map((r) => `${r.type} ${r.data}`).sort());

const hasRecords = (answer: DnsAnswer | null) => answer !== null && answer.rcode === 'NOERROR' && answer.answers.length > 0;

/** The resolv.conf the pod's resolver reads: the observed one when it was captured for the pod's namespace and policy, else the model's. */
function podResolvConf(context: TraceContext, pod: PodView): { conf: ResolvConf; from: 'observed' | 'model'; problem: string | null; lines: TableLineRef[] } {
  const expected = expectedResolvConf(context.snapshot, { namespace: pod.namespace, dnsPolicy: pod.dnsPolicy, hostNetwork: pod.hostNetwork });
  const captured = context.observation?.resolvConf;
  if (captured && typeof captured.text === 'string' && captured.namespace === pod.namespace && captured.dnsPolicy === (pod.dnsPolicy || 'ClusterFirst')) {
    const observed = parseResolvConf(captured.text, `resolv.conf (namespace ${pod.namespace})`);
    const findings = compareResolvConf(expected, observed, `pod ${pod.namespace}/${pod.name}`);
    const lines: TableLineRef[] = [
      { layer: 'resolvconf', node: null, text: `search ${observed.search.join(' ')}` },
      { layer: 'resolvconf', node: null, text: `options ${Object.entries(observed.options).map(([k, v]) => (v === null ? k : `${k}:${v}`)).join(' ')}` },
    ];
    return { conf: observed, from: 'observed', problem: findings.length ? findings.map((f) => f.message).join(' ') : null, lines };
  }
  return { conf: expected, from: 'model', problem: null, lines: [] };
}

function observedAnswer(context: TraceContext, name: string): DnsAnswer | null {
  for (const o of context.observation?.dns ?? []) {
    if (o.query.type === 'A' && o.query.name.replace(/\.$/, '').toLowerCase() === name && !(o.answer instanceof Error)) return o.answer;
  }
  return null;
}

function queryStep(context: TraceContext, name: string, how: DnsQueryStep['how']): DnsQueryStep {
  let expected: DnsAnswer | null = null;
  let note: string;
  try {
    const expectation = dnsExpectationFor(context.snapshot, { name, type: 'A' });
    expected = expectation.expect;
    note = expectation.why;
  } catch (error) {
    if (!(error instanceof UnpredictableDnsQuery)) throw error;
    note = error.message;
  }
  const observed = observedAnswer(context, name);
  let verdict: Verdict;
  if (observed) verdict = expected === null ? 'ok' : sameAnswer(expected, observed) ? 'ok' : 'broken';
  else verdict = expected === null ? 'unknown' : 'expected';
  if (verdict === 'broken') note += `; CoreDNS answered ${answerText(observed!)} instead of ${answerText(expected!)}`;
  return { name, type: 'A', how, expected, observed, verdict, note };
}

/**
 * Resolves `name` as the pod's resolver would: the search-list expansion under ndots (glibc order), each
 * query answered by the model (and by the observation when there is one), stopping at the first answer
 * with records. Verdict: broken when an observed answer or the resolv.conf differs from the model, or no
 * query answers; unknown when the lookup leaves the cluster; expected when nothing was observed; else ok.
 */
export function dnsHop(context: TraceContext, pod: PodView, name: string): DnsHop {
  const { conf, from, problem, lines } = podResolvConf(context, pod);
  const ndots = ndotsOf(conf.options);
  const queries: DnsQueryStep[] = [];
  let answer: string | null = null;
  for (const candidate of searchListExpansion(name, conf.search, ndots)) {
    const step = queryStep(context, candidate.name, candidate.how);
    queries.push(step);
    const got = step.observed ?? step.expected;
    if (hasRecords(got)) {
      // the DNS layer asks every Service's name (not the names the search list tries first): this line is in its table
      if (step.expected) lines.push({ layer: 'dns', node: null, text: `${step.name} A -> ${answerText(step.expected)}` });
      answer = got!.answers.find((r) => r.type === 'A')?.data ?? null;
      break;
    }
    if (got === null) break; // upstream decides: netlab cannot say whether the resolver moves on
  }
  const last = queries[queries.length - 1]!;
  const dots = name.replace(/\.$/, '').split('.').length - 1;
  const order = name.endsWith('.') ? 'The name ends with a dot, so it is absolute: asked as it is.'
    : dots >= ndots ? `"${name}" has ${dots} dot(s), at least ndots:${ndots}, so the resolver asks it as it is first, then with each search domain.`
    : `"${name}" has ${dots} dot(s), fewer than ndots:${ndots}, so the resolver tries each search domain first and the name as it is last.`;
  const nx = queries.filter((q) => (q.observed ?? q.expected)?.rcode === 'NXDOMAIN').length;
  const explanation = `${order} ${nx ? `${nx} quer${nx === 1 ? 'y gets' : 'ies get'} NXDOMAIN before ` : ''}`
    + (answer ? `${last.name} answers ${answer}.` : `no query answers with an address.`)
    + ` Resolver settings from the ${from === 'observed' ? 'observed' : "model's"} resolv.conf (nameserver ${conf.nameservers.join(', ') || 'none'}).`;
  let verdict: Verdict;
  let reason: string | null = null;
  const broken = queries.filter((q) => q.verdict === 'broken');
  if (problem || broken.length) {
    verdict = 'broken';
    reason = [problem, ...broken.map((q) => `${q.name}: ${q.note}`)].filter(Boolean).join(' ');
  } else if (!answer && last.verdict === 'unknown') {
    verdict = 'unknown';
    reason = `${last.name}: ${last.note}.`;
  } else if (!answer) {
    verdict = 'broken';
    reason = `No query answers with an address: the lookup of "${name}" fails (the resolver reports "not found").`;
  } else if (queries.some((q) => q.verdict === 'expected') || from === 'model') {
    verdict = 'expected';
    reason = from === 'model' ? 'Neither the pod\'s resolv.conf nor CoreDNS\'s answers were observed: the model\'s.' : 'CoreDNS\'s answers were not observed: the model\'s.';
  } else {
    verdict = 'ok';
  }
  return {
    kind: 'dns', id: 'dns', title: `DNS: ${name}`, node: pod.nodeName, verdict, explanation, reason, lines,
    resolvConf: { nameservers: conf.nameservers, search: conf.search, ndots, from }, queries, answer,
  };
}
