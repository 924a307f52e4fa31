// Plain-word explanations of a pod's /etc/resolv.conf.
import type { Finding } from '../compare/types.ts';
import type { ExpectedResolvConf } from '../model/types.ts';
import type { ResolvConf } from '../parse/types.ts';
import type { AnnotatedLine } from './types.ts';

/** The pod's namespace and cluster domain when `search` starts the way the kubelet writes it for ClusterFirst pods. */
export function kubeletSearchList(search: string[]): { namespace: string; domain: string } | null {
  const [first, second, domain] = search;
  if (first === undefined || second !== `svc.${domain}` || !first.endsWith(`.${second}`)) return null;
  const namespace = first.slice(0, -`.${second}`.length);
  return namespace && !namespace.includes('.') ? { namespace, domain: domain! } : null;
}

/** The search line. `namespace`: the pod's, when known (with a snapshot); null infers it from the list's shape. */
export function explainSearch(search: string[], namespace: string | null): string {
  if (search.length === 0) return 'No search list: short names are looked up as they are.';
  const tried = `A short name is tried with each suffix in turn: ${search.map((s) => `"<name>.${s}"`).join(', ')}.`;
  const kubelet = kubeletSearchList(search);
  if (!kubelet) return `${tried} Not the list the kubelet writes for a pod (<namespace>.svc.<cluster domain>, svc.<cluster domain>, <cluster domain>), so short Service names do not resolve through it.`;
  const rest = search.slice(3);
  const node = rest.length ? ` The rest (${rest.join(', ')}) the kubelet copies from the node's own resolv.conf.` : '';
  if (namespace !== null && kubelet.namespace !== namespace) {
    return `${tried} This is the kubelet's list for a pod in namespace ${kubelet.namespace}, not ${namespace}.${node}`;
  }
  return `${tried} The kubelet's list for a pod in namespace ${kubelet.namespace} of cluster domain ${kubelet.domain}: the first suffix makes "my-svc" find a Service in the pod's own namespace (a pod elsewhere gets its namespace here instead); the second lets "my-svc.other-ns" reach another namespace.${node}`;
}

/** The options line; `search` (the file's search list) gives the ndots example its real first suffix. */
export function explainOptions(options: Record<string, string | null>, search: string[] = []): string {
  const parts = Object.entries(options).map(([name, value]) => {
    if (name === 'ndots') {
      const example = search[0] ? `; "kubernetes.default" (1 dot) becomes kubernetes.default.${search[0]}` : '';
      return `ndots:${value} = a name with fewer than ${value} dots is tried with the search list first${example} before anything goes upstream, at the cost of extra queries for external names`;
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
    lines.push({ text: `options ${optionKeys.map((k) => (observed.options[k] === null ? k : `${k}:${observed.options[k]}`)).join(' ')}`, status, explanation: explainOptions(observed.options, observed.search) });
  } else if (Object.keys(expected.options).length) {
    lines.push({ text: `options ${Object.entries(expected.options).map(([k, v]) => (v === null ? k : `${k}:${v}`)).join(' ')}`, status: 'missing', explanation: explainOptions(expected.options, expected.search) });
  }
  return lines;
}
