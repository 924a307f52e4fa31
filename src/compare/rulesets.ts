// kube-proxy's iptables and nftables layers: the expected chains, rules and map elements of one node
// against what `iptables-save` / `nft list table ip kube-proxy` shows. Findings are keyed the way the
// tools name things: a chain, a rule of a chain, an element of a map. Counters are never compared.
import type { ExpectedIptablesChain, ExpectedNftChain, ExpectedNftSet, ExpectedRule, NodeIptables, NodeNftables, ServiceChainWhy, ServiceRuleWhy } from '../model/types.ts';
import type { IptablesSave, NftElement, NftTable } from '../parse/types.ts';
import type { Finding, Layer } from './types.ts';

export type RuleStatus = 'ok' | 'unexpected' | 'missing';
export type ChainStatus = 'ok' | 'mismatch' | 'unexpected' | 'missing' | 'stale';

export interface ComparedRule {
  text: string;
  status: RuleStatus;
  why: ServiceRuleWhy | null;
}

export interface ComparedChain {
  /** iptables table (filter, nat, mangle); null in nftables mode */
  table: string | null;
  name: string;
  /** a base chain's hook line (nftables), or a built-in chain's policy (iptables) */
  header: string | null;
  comment: string | null;
  status: ChainStatus;
  why: ServiceChainWhy | null;
  /** observed rules in order, with the missing expected ones inserted where they belong */
  rules: ComparedRule[];
}

export interface ComparedElement {
  element: NftElement;
  status: 'ok' | 'mismatch' | 'unexpected' | 'missing';
  why: ServiceRuleWhy | null;
  /** for a mismatch: the expected element */
  expected: NftElement | null;
}

export interface ComparedSet {
  set: Omit<ExpectedNftSet, 'elements' | 'dynamic'> | null;
  name: string;
  kind: 'set' | 'map';
  status: 'ok' | 'mismatch' | 'unexpected' | 'missing';
  dynamic: boolean;
  elements: ComparedElement[];
}

export interface RulesetComparison {
  findings: Finding[];
  chains: ComparedChain[];
  sets: ComparedSet[];
}

interface Scope {
  layer: Layer;
  node: string;
  /** what every key starts with: the iptables table ("nat "), or the nft family other than ip ("ip6 "; "" for ip) */
  keyPrefix: string;
  /** how a rule of a chain is written in a key and a finding: "-A CHAIN RULE" or "CHAIN: RULE" */
  ruleKey: (chain: string, rule: string) => string;
  next: string;
}

/** Each item by its key (the last one when keys repeat, as new Map(entries)), without an array of entries: a node has 10,000s. */
function indexBy<T>(items: T[], key: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) map.set(key(item), item);
  return map;
}

// ---- chains and rules (both modes)

/**
 * Matches one chain's rules: equal texts pair up in order (a rule kube-proxy writes twice must appear
 * twice). Rules only observed are unexpected, rules only expected missing. When every rule matches but
 * the order differs, the chain is a mismatch: iptables and nftables try rules top to bottom.
 */
function compareRules(scope: Scope, chain: string, want: ExpectedRule[], got: string[], findings: Finding[], ownedRule: (rule: string) => boolean): { rules: ComparedRule[]; reordered: boolean } {
  // Nearly every chain is exactly as expected: then each rule pairs with the one at its index, nothing is missing
  // or unexpected, and the order is kube-proxy's; this check costs no Map or index lists per chain.
  if (want.length === got.length && want.every((rule, i) => rule.text === got[i])) {
    return { rules: want.map((rule) => ({ text: rule.text, status: 'ok', why: rule.why })), reordered: false };
  }
  const pending = new Map<string, number[]>();
  want.forEach((rule, i) => {
    const list = pending.get(rule.text);
    if (list) list.push(i);
    else pending.set(rule.text, [i]);
  });
  const matchedAt: number[] = [];
  const rules: ComparedRule[] = [];
  for (const text of got) {
    const index = pending.get(text)?.shift();
    if (index !== undefined) {
      matchedAt.push(index);
      rules.push({ text, status: 'ok', why: want[index]!.why });
    } else if (ownedRule(text)) {
      rules.push({ text, status: 'unexpected', why: null });
      findings.push(ruleFinding(scope, 'unexpected', chain, text, null));
    }
  }
  // missing rules go after the observed rule that precedes them in the expected order
  const missingIndexes = [...pending.values()].flat().sort((a, b) => a - b);
  for (const index of missingIndexes) {
    const rule = want[index]!;
    findings.push(ruleFinding(scope, 'missing', chain, rule.text, rule.why));
    let at = rules.length;
    for (let i = 0; i < rules.length; i++) {
      const okIndex = rules[i]!.status === 'ok' ? want.findIndex((w, j) => j > index && w.text === rules[i]!.text) : -1;
      if (okIndex > index) {
        at = i;
        break;
      }
    }
    rules.splice(at, 0, { text: rule.text, status: 'missing', why: rule.why });
  }
  // Order counts within one Service port's rules and within kube-proxy's own plumbing; rules of different
  // Services in a shared chain (KUBE-SERVICES, KUBE-NODEPORTS) come in Go's map order, which is random.
  const lastOfGroup = new Map<string, number>();
  let reordered = false;
  for (const index of matchedAt) {
    const port = want[index]!.why.port;
    const group = port ? `${port.name}/${port.protocol}` : '';
    if ((lastOfGroup.get(group) ?? -1) > index) reordered = true;
    lastOfGroup.set(group, index);
  }
  return { rules, reordered };
}

function compareChains<C extends { name: string; rules: ExpectedRule[]; why: ServiceChainWhy }>(
  scope: Scope,
  table: string | null,
  expected: C[],
  observed: { name: string; rules: string[]; header: string | null; comment: string | null }[],
  options: {
    header: (want: C) => string | null;
    comment: (want: C) => string | null;
    /** whether the header differs in a way that matters */
    headerDiffers: (want: C, got: string | null) => boolean;
    /** a chain kube-proxy owns entirely (all its rules are compared), one it shares (built-in), or not its own */
    ownership: (name: string) => 'owned' | 'shared' | 'foreign';
    /** rules of a shared chain that belong to kube-proxy */
    ownedRuleOfShared: (rule: string) => boolean;
    /** an unexpected owned chain that kube-proxy leaves behind on purpose for a while */
    stale: (name: string, rules: string[]) => boolean;
  },
  findings: Finding[],
): ComparedChain[] {
  const wanted = indexBy(expected, (c) => c.name);
  const seen = new Set<string>();
  const out: ComparedChain[] = [];
  for (const got of observed) {
    const want = wanted.get(got.name);
    const ownership = options.ownership(got.name);
    if (!want) {
      if (ownership !== 'owned') continue;
      if (options.stale(got.name, got.rules)) {
        out.push({ table, name: got.name, header: got.header, comment: got.comment, status: 'stale', why: null, rules: [] });
        continue;
      }
      findings.push(chainFinding(scope, 'unexpected', table, got.name, null, got.rules.length));
      out.push({ table, name: got.name, header: got.header, comment: got.comment, status: 'unexpected', why: null, rules: got.rules.map((text) => ({ text, status: 'unexpected', why: null })) });
      continue;
    }
    seen.add(got.name);
    const ownedRule = ownership === 'shared' ? options.ownedRuleOfShared : () => true;
    const { rules, reordered } = compareRules(scope, got.name, want.rules, got.rules, findings, ownedRule);
    const headerDiffers = options.headerDiffers(want, got.header);
    // a built-in chain's rule order is shared with other programs: only kube-proxy's own chains are checked for it
    const orderMatters = ownership === 'owned' && reordered;
    if (headerDiffers || orderMatters) findings.push(chainMismatch(scope, table, got.name, headerDiffers ? { want: options.header(want), got: got.header } : null, orderMatters));
    out.push({ table, name: got.name, header: got.header, comment: got.comment, status: headerDiffers || orderMatters ? 'mismatch' : 'ok', why: want.why, rules });
  }
  for (const want of expected) {
    if (seen.has(want.name)) continue;
    findings.push(chainFinding(scope, 'missing', table, want.name, want.why, want.rules.length));
    out.push({ table, name: want.name, header: options.header(want), comment: options.comment(want), status: 'missing', why: want.why, rules: want.rules.map((r) => ({ text: r.text, status: 'missing', why: r.why })) });
  }
  return out;
}

// ---- nftables

/** Service and endpoint chains have a "/" in their name; kube-proxy flushes them when unused and deletes them a sync later. */
const isServiceChainName = (name: string) => name.includes('/');
const hookOf = (line: string | null) => (line ? /^type \S+ hook \S+/.exec(line)?.[0] ?? line : null);

export function compareNftables(expected: NodeNftables, observed: NftTable): RulesetComparison {
  const findings: Finding[] = [];
  const scope: Scope = {
    // keys of the ip table stay unprefixed; the ip6 table's have the same chain and set names, so they say ip6
    layer: 'nftables', node: expected.node, keyPrefix: expected.family === 'ip' ? '' : `${expected.family} `,
    ruleKey: (chain, rule) => `${chain}: ${rule}`,
    next: `nft list table ${expected.family} kube-proxy on ${expected.node}; kube-proxy logs on ${expected.node}`,
  };
  const observedChains = observed.chains.map((c) => ({ name: c.name, rules: c.rules, header: c.hook, comment: c.comment }));
  const chains = compareChains(scope, null, expected.chains, observedChains, {
    header: (want: ExpectedNftChain) => want.hook,
    comment: (want: ExpectedNftChain) => want.comment,
    // the priority is printed by name or by number depending on the nft version: type and hook are compared
    headerDiffers: (want, got) => hookOf(want.hook) !== hookOf(got),
    ownership: () => 'owned',
    ownedRuleOfShared: () => true,
    stale: (name, rules) => isServiceChainName(name) && rules.length === 0,
  }, findings);
  const sets = compareSets(scope, expected.sets, observed.sets, findings);
  return { findings, chains, sets };
}

function elementText(e: NftElement): string {
  return `${e.key}${e.comment !== null ? ` comment "${e.comment}"` : ''}${e.value !== null ? ` : ${e.value}` : ''}`;
}

function compareSets(scope: Scope, expected: ExpectedNftSet[], observed: NftTable['sets'], findings: Finding[]): ComparedSet[] {
  const wanted = indexBy(expected, (s) => s.name);
  const seen = new Set<string>();
  const out: ComparedSet[] = [];
  for (const got of observed) {
    const want = wanted.get(got.name);
    if (!want) {
      findings.push(setFinding(scope, 'unexpected', got.kind, got.name));
      out.push({ set: null, name: got.name, kind: got.kind, status: 'unexpected', dynamic: got.flags.includes('dynamic'), elements: got.elements.map((element) => ({ element, status: 'unexpected', why: null, expected: null })) });
      continue;
    }
    seen.add(got.name);
    const fields = (['type', 'timeout'] as const).filter((f) => want[f] !== got[f]);
    if (want.flags.join(',') !== got.flags.join(',')) fields.push('flags' as never);
    if (fields.length) findings.push(setMismatch(scope, want, got, fields));
    // an affinity set holds the clients kube-proxy has seen: live data, like IPVS connection counters
    const elements = want.dynamic ? got.elements.map((element) => ({ element, status: 'ok' as const, why: null, expected: null })) : compareElements(scope, want, got.elements, findings);
    out.push({ set: want, name: got.name, kind: got.kind, status: fields.length ? 'mismatch' : 'ok', dynamic: want.dynamic, elements });
  }
  for (const want of expected) {
    if (seen.has(want.name)) continue;
    findings.push(setFinding(scope, 'missing', want.kind, want.name, want));
    out.push({ set: want, name: want.name, kind: want.kind, status: 'missing', dynamic: want.dynamic, elements: want.elements.map((e) => ({ element: e, status: 'missing', why: e.why, expected: null })) });
  }
  return out;
}

function compareElements(scope: Scope, want: ExpectedNftSet, got: NftElement[], findings: Finding[]): ComparedElement[] {
  const wanted = indexBy(want.elements, (e) => e.key);
  const seen = new Set<string>();
  const out: ComparedElement[] = [];
  for (const element of got) {
    const expected = wanted.get(element.key);
    if (!expected || seen.has(element.key)) {
      findings.push(elementFinding(scope, 'unexpected', want, element, null));
      out.push({ element, status: 'unexpected', why: null, expected: null });
      continue;
    }
    seen.add(element.key);
    const differs = expected.value !== element.value || expected.comment !== element.comment;
    if (differs) findings.push(elementFinding(scope, 'mismatch', want, element, expected));
    out.push({ element, status: differs ? 'mismatch' : 'ok', why: expected.why, expected: differs ? expected : null });
  }
  for (const expected of want.elements) {
    if (seen.has(expected.key)) continue;
    findings.push(elementFinding(scope, 'missing', want, null, expected));
    out.push({ element: expected, status: 'missing', why: expected.why, expected: null });
  }
  return out;
}

// ---- iptables

/** Chains kube-proxy writes in full: its fixed KUBE-* chains and the per-Service ones. */
const KUBE_PROXY_CHAIN = /^KUBE-(SERVICES|EXTERNAL-SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|FORWARD|PROXY-FIREWALL|PROXY-CANARY|FIREWALL|(SVC|SVL|EXT|FW|SEP)-[A-Z2-7]{16})$/;
const BUILT_IN_CHAIN = /^(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/;

export function compareIptables(expected: NodeIptables, observed: IptablesSave): RulesetComparison {
  const findings: Finding[] = [];
  const chains: ComparedChain[] = [];
  for (const want of expected.tables) {
    const got = observed.tables.find((t) => t.name === want.name);
    const scope: Scope = {
      layer: 'iptables', node: expected.node, keyPrefix: `${want.name} `,
      ruleKey: (chain, rule) => `-A ${chain} ${rule}`,
      next: `iptables-save -t ${want.name} on ${expected.node}; kube-proxy logs on ${expected.node}`,
    };
    const observedChains = (got?.chains ?? []).map((c) => ({ name: c.name, rules: c.rules, header: c.policy, comment: null }));
    chains.push(...compareChains(scope, want.name, want.chains, observedChains, {
      header: (c: ExpectedIptablesChain) => c.policy,
      comment: () => null,
      headerDiffers: () => false, // a built-in chain's policy belongs to the node's firewall, not to kube-proxy
      ownership: (name) => (KUBE_PROXY_CHAIN.test(name) ? 'owned' : BUILT_IN_CHAIN.test(name) ? 'shared' : 'foreign'),
      ownedRuleOfShared: (rule) => / -j KUBE-[A-Z-]+$/.test(` ${rule}`),
      stale: () => false,
    }, findings));
  }
  return { findings, chains, sets: [] };
}

// ---- findings

const KIND_WORDS: Partial<Record<ServiceRuleWhy['kind'], string>> = {
  'dispatch-cluster-ip': 'sends its ClusterIP traffic on',
  'dispatch-external-ip': 'sends its externalIP traffic on',
  'dispatch-load-balancer': 'sends its load balancer traffic on',
  'dispatch-nodeport': 'sends its NodePort traffic on',
  'dispatch-nodeport-localhost': 'sends its NodePort traffic to 127.0.0.1 on',
  'no-endpoints': 'refuses traffic it has no endpoint for',
  'balance': 'chooses an endpoint',
  'balance-dnat': 'chooses an endpoint and rewrites the destination to it',
  'hairpin': 'lets a pod that reaches itself through the Service be masqueraded',
  'dnat': 'rewrites the destination to the endpoint',
  'endpoint-hairpin': 'masquerades a pod that reaches itself through the Service',
  'affinity-check': 'keeps a client on the endpoint it used before (sessionAffinity ClientIP)',
  'affinity-record': 'records the client for session affinity',
  'masquerade-off-cluster': 'masquerades clients from outside the pod network',
};

function whose(why: ServiceRuleWhy | ServiceChainWhy | null | undefined): string {
  if (!why?.port) return 'kube-proxy\'s own plumbing';
  const p = why.port;
  const ep = why.endpoint ? `, endpoint ${why.endpoint.address}:${why.endpoint.port}${why.endpoint.pod ? ` (pod ${why.endpoint.namespace}/${why.endpoint.pod})` : ''}` : '';
  return `Service ${p.namespace}/${p.service}${p.portName ? ` port "${p.portName}"` : ''}${ep}`;
}

function ruleFinding(scope: Scope, kind: 'missing' | 'unexpected', chain: string, rule: string, why: ServiceRuleWhy | null): Finding {
  const key = `${scope.keyPrefix}${scope.ruleKey(chain, rule)}`;
  const what = why ? KIND_WORDS[why.kind] : undefined;
  return {
    layer: scope.layer, kind, node: scope.node, key, fields: [],
    expected: kind === 'missing' ? rule : null,
    observed: kind === 'unexpected' ? rule : null,
    message: kind === 'missing'
      ? `A rule of chain ${chain} is missing on ${scope.node}: the rule that ${what ?? 'belongs there'} for ${whose(why)}.`
      : `Chain ${chain} on ${scope.node} has a rule kube-proxy would not write for the cluster as it is.`,
    cause: kind === 'missing'
      ? 'kube-proxy has not synced since the change, or the rule was deleted behind its back (it rewrites whole chains only when a Service or its endpoints change, or at a full resync).'
      : 'A leftover of a Service or endpoint that changed and kube-proxy has not synced, or a rule added by hand.',
    next: scope.next,
  };
}

function chainFinding(scope: Scope, kind: 'missing' | 'unexpected', table: string | null, chain: string, why: ServiceChainWhy | null, rules: number): Finding {
  return {
    layer: scope.layer, kind, node: scope.node, key: `${scope.keyPrefix}${chain}`, fields: [],
    expected: kind === 'missing' ? `chain ${chain} (${rules} rules)` : null,
    observed: kind === 'unexpected' ? `chain ${chain} (${rules} rules)` : null,
    message: kind === 'missing'
      ? `Chain ${chain}${table ? ` (table ${table})` : ''} of ${whose(why)} is missing on ${scope.node}.`
      : `Chain ${chain}${table ? ` (table ${table})` : ''} on ${scope.node} belongs to no Service port of the cluster.`,
    cause: kind === 'missing'
      ? 'kube-proxy on this node has not synced since the Service or its endpoints appeared, is not running, or runs in another mode.'
      : 'A chain of a deleted Service or endpoint that kube-proxy has not cleaned up yet, or one made by hand.',
    next: scope.next,
  };
}

function chainMismatch(scope: Scope, table: string | null, chain: string, header: { want: string | null; got: string | null } | null, reordered: boolean): Finding {
  const parts: string[] = [];
  if (header) parts.push(`its hook is "${header.got}", expected "${header.want}"`);
  if (reordered) parts.push('its rules are in another order than kube-proxy writes them (rules are tried top to bottom)');
  return {
    layer: scope.layer, kind: 'mismatch', node: scope.node, key: `${scope.keyPrefix}${chain}`, fields: [header ? 'hook' : 'order'],
    expected: header?.want ?? null, observed: header?.got ?? null,
    message: `Chain ${chain}${table ? ` (table ${table})` : ''} on ${scope.node}: ${parts.join('; ')}.`,
    cause: 'The chain was edited outside kube-proxy (rules inserted or moved by hand or by another program).',
    next: scope.next,
  };
}

function setFinding(scope: Scope, kind: 'missing' | 'unexpected', setKind: 'set' | 'map', name: string, want?: ExpectedNftSet): Finding {
  return {
    layer: scope.layer, kind, node: scope.node, key: `${scope.keyPrefix}${setKind} ${name}`, fields: [],
    expected: kind === 'missing' ? `${setKind} ${name}` : null, observed: kind === 'unexpected' ? `${setKind} ${name}` : null,
    message: kind === 'missing'
      ? `The ${setKind} ${name}${want?.endpoint ? ` (session affinity of ${whose({ kind: 'endpoint', port: want.port, endpoint: want.endpoint })})` : ''} is missing on ${scope.node}.`
      : `The ${setKind} ${name} on ${scope.node} is not one kube-proxy keeps for the cluster as it is.`,
    cause: kind === 'missing' ? 'kube-proxy has not synced, or the table was changed by hand.' : 'A leftover of a Service that changed, or a set made by hand.',
    next: scope.next,
  };
}

function setMismatch(scope: Scope, want: ExpectedNftSet, got: { type: string; timeout: string | null; flags: string[] }, fields: string[]): Finding {
  const diffs = fields.map((f) => `${f} is ${JSON.stringify(got[f as 'type'])}, expected ${JSON.stringify(want[f as 'type'])}`);
  return {
    layer: scope.layer, kind: 'mismatch', node: scope.node, key: `${scope.keyPrefix}${want.kind} ${want.name}`, fields,
    expected: null, observed: null,
    message: `The ${want.kind} ${want.name} on ${scope.node}: ${diffs.join('; ')}.`,
    cause: want.timeout !== null ? 'The Service\'s sessionAffinity timeout changed and kube-proxy has not synced yet.' : 'The set was recreated outside kube-proxy.',
    next: scope.next,
  };
}

function elementFinding(scope: Scope, kind: 'missing' | 'unexpected' | 'mismatch', set: ExpectedNftSet, got: NftElement | null, want: ExpectedNftElement | null): Finding {
  const key = `${scope.keyPrefix}${set.kind} ${set.name} element ${(got ?? want)!.key}`;
  return {
    layer: scope.layer, kind, node: scope.node, key, fields: kind === 'mismatch' ? ['value'] : [],
    expected: want ? elementText(want) : null,
    observed: got ? elementText(got) : null,
    message: kind === 'missing'
      ? `${set.name} has no element ${want!.key} on ${scope.node}: ${whose(want!.why)} ${want!.why.kind === 'no-endpoints' ? 'is not refused as it should be' : 'gets no traffic through it'}.`
      : kind === 'mismatch'
        ? `${set.name} element ${got!.key} on ${scope.node} is "${got!.value}", expected "${want!.value}" (${whose(want!.why)}).`
        : `${set.name} element ${got!.key} on ${scope.node} belongs to no Service port of the cluster.`,
    cause: kind === 'unexpected'
      ? 'A Service that was deleted or lost its endpoints, and kube-proxy has not synced yet; or an element added by hand.'
      : 'kube-proxy has not synced since the Service or its endpoints changed, or the element was changed by hand.',
    next: scope.next,
  };
}

type ExpectedNftElement = ExpectedNftSet['elements'][number];
