// Plain-word explanations of a pod's /etc/resolv.conf.
import type { Finding } from '../compare/types.ts';
import type { ExpectedResolvConf } from '../model/types.ts';
import type { ResolvConf } from '../parse/types.ts';
import type { AnnotatedLine } from './types.ts';

export function explainSearch(search: string[], namespace: string): string {
  if (search.length === 0) return 'No search list: short names are looked up as they are.';
  const [first, ...rest] = search;
  const own = first === `${namespace}.svc.${rest.at(-1) ?? ''}` || first?.startsWith(`${namespace}.svc.`);
  return `A short name is tried with each suffix in turn: ${search.map((s) => `"<name>.${s}"`).join(', ')}. `
    + (own
      ? `The first one makes "my-svc" find a Service in the pod's own namespace ${namespace}; a pod in another namespace gets that namespace here instead; the second lets "my-svc.other-ns" reach another namespace.`
      : 'These are not the cluster\'s search domains.');
}

export function explainOptions(options: Record<string, string | null>): string {
  const parts = Object.entries(options).map(([name, value]) => {
    if (name === 'ndots') {
      return `ndots:${value} = a name with fewer than ${value} dots is tried with the search list first; "kubernetes.default" (1 dot) becomes kubernetes.default.<ns>.svc.cluster.local before anything goes upstream, at the cost of extra queries for external names`;
    }
    return value === null ? name : `${name}:${value}`;
  });
  return parts.join('; ') + '.';
}

/** The observed file line by line, with verdicts taken from the findings of the comparison. */
export function annotateResolvConf(observed: ResolvConf, expected: ExpectedResolvConf, findings: Finding[]): AnnotatedLine[] {
  const statusOf = (key: string) => (findings.some((f) => f.key === key) ? 'mismatch' as const : 'ok' as const);
  const lines: AnnotatedLine[] = [];
  if (observed.search.length || expected.search.length) {
    lines.push({ text: `search ${observed.search.join(' ')}`, status: statusOf('search'), explanation: explainSearch(observed.search, expected.namespace) });
  }
  for (const ns of observed.nameservers) {
    lines.push({
      text: `nameserver ${ns}`,
      status: statusOf('nameserver'),
      explanation: expected.nameservers.includes(ns)
        ? `The cluster DNS Service (kube-dns) at ${ns}: kube-proxy spreads these queries over the CoreDNS pods.`
        : `A nameserver that is not the cluster DNS Service (${expected.nameservers.join(', ') || 'none expected'}).`,
    });
  }
  const optionKeys = Object.keys(observed.options);
  if (optionKeys.length) {
    const status = optionKeys.some((k) => statusOf(`options ${k}`) === 'mismatch') || findings.some((f) => f.key.startsWith('options ')) ? 'mismatch' : 'ok';
    lines.push({ text: `options ${optionKeys.map((k) => (observed.options[k] === null ? k : `${k}:${observed.options[k]}`)).join(' ')}`, status, explanation: explainOptions(observed.options) });
  } else if (Object.keys(expected.options).length) {
    lines.push({ text: `options ${Object.entries(expected.options).map(([k, v]) => (v === null ? k : `${k}:${v}`)).join(' ')}`, status: 'missing', explanation: explainOptions(expected.options) });
  }
  return lines;
}
