// DNS layer: the answers CoreDNS must give against the answers it gave. Answers are compared as sets
// (CoreDNS's loadbalance plugin shuffles them); TTLs are not compared.
import type { ObservedDnsAnswer } from '../observation/types.ts';
import type { DnsAnswer, DnsExpectation, DnsRecord } from '../model/types.ts';
import type { Finding } from './types.ts';

export interface DnsComparison {
  findings: Finding[];
  /** expectations that were matched by at least one observation */
  checked: number;
  /** observations that failed (timeout, refused): the layer cannot be judged for them */
  failures: { query: string; server: string; error: string }[];
}

export function recordText(r: DnsRecord): string {
  return `${r.name}. ${r.type} ${r.data}`;
}

export function answerText(a: DnsAnswer): string {
  if (a.answers.length === 0) return a.rcode === 'NOERROR' ? 'NOERROR (no records)' : a.rcode;
  return `${a.rcode}: ${a.answers.map(recordText).sort().join(', ')}`;
}

export function queryText(q: { name: string; type: string }): string {
  return `${q.name} ${q.type}`;
}

/** The records of an answer that the expectation speaks about. For an ExternalName whose target lies
 *  outside the cluster, CoreDNS appends the target's addresses from the upstream resolver: the model marks
 *  such answers partial, and only their CNAME chain is compared. */
function comparable(expect: DnsAnswer, got: DnsAnswer): string[] {
  const records = expect.partial ? got.answers.filter((r) => r.type === 'CNAME') : got.answers;
  return [...new Set(records.map(recordText))].sort();
}

export function compareDns(expectations: DnsExpectation[], observed: ObservedDnsAnswer[]): DnsComparison {
  const byQuery = new Map<string, ObservedDnsAnswer[]>();
  for (const o of observed) {
    const k = queryText(o.query).toLowerCase();
    byQuery.set(k, [...(byQuery.get(k) ?? []), o]);
  }
  const findings: Finding[] = [];
  const failures: DnsComparison['failures'] = [];
  let checked = 0;
  for (const exp of expectations) {
    const key = queryText(exp.query);
    const answers = byQuery.get(key.toLowerCase()) ?? [];
    if (answers.length) checked++;
    for (const o of answers) {
      if (o.answer instanceof Error) {
        failures.push({ query: key, server: o.server, error: o.answer.message });
        continue;
      }
      const want = [...new Set(exp.expect.answers.map(recordText))].sort();
      const got = comparable(exp.expect, o.answer);
      const fields: string[] = [];
      if (o.answer.rcode !== exp.expect.rcode) fields.push('rcode');
      if (want.join('\n') !== got.join('\n')) fields.push('answer');
      if (!fields.length) continue;
      findings.push({
        layer: 'dns', kind: 'mismatch', node: null, key: `${key} @${o.server}`, fields,
        expected: answerText(exp.expect), observed: answerText(o.answer),
        message: `${o.server} answered ${key} with ${answerText(o.answer)}; expected ${answerText(exp.expect)} (${exp.why}).`,
        cause: dnsCause(exp, o.answer),
        next: 'kubectl -n kube-system logs -l k8s-app=kube-dns; kubectl get endpointslices -A; check the CoreDNS Corefile (kubectl -n kube-system get configmap coredns -o yaml)',
      });
    }
  }
  return { findings, checked, failures };
}

function dnsCause(exp: DnsExpectation, got: DnsAnswer): string {
  if (got.rcode === 'SERVFAIL') return 'CoreDNS answered SERVFAIL: its kubernetes plugin has not synced with the API server, or it cannot reach it.';
  if (exp.expect.rcode === 'NXDOMAIN' && got.rcode === 'NOERROR') return 'A name that should not exist resolves: a Service or endpoint the snapshot does not have exists for CoreDNS (stale snapshot, or another plugin answers it).';
  if (exp.expect.rcode === 'NOERROR' && got.rcode === 'NXDOMAIN') return 'CoreDNS does not know this name yet: its watch of Services/EndpointSlices lags, or the namespace is not served.';
  return 'CoreDNS sees different endpoints or addresses than the snapshot: endpoints changed between snapshot and query, or readiness differs (only ready endpoints are published unless publishNotReadyAddresses is set).';
}
