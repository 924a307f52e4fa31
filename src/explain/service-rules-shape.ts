// kube-proxy's nftables and iptables listings explained without a snapshot (`netlab explain FILE --format
// nft|iptables-save`): no model says which Service a line serves, but kube-proxy writes it into the line
// itself (nft chain names "service-HASH-ns/name/proto/port", iptables comments "ns/name:port"), so each
// chain and rule is named after its Service port from that. Rules whose meaning shows in their text get the
// same words as the checked listing (explainServiceRule); anything else says that it needs --snapshot.
import { servicePortName } from '../model/services/names.ts';
import type { PortRef, ServiceRuleWhy } from '../model/types.ts';
import type { IptablesChain, IptablesSave, NftSet, NftTable } from '../parse/types.ts';
import { nftElementText } from '../render/nft.ts';
import { explainServiceChain, explainServiceRule, portWords, type ProxyMode } from './service-rules.ts';
import type { AnnotatedLine } from './types.ts';

const info = (text: string, explanation: string): AnnotatedLine => ({ text, status: 'info', explanation });
const UNKNOWN = 'A rule netlab does not recognise by its shape alone: give --snapshot to check it against the cluster.';

function portRef(namespace: string, service: string, protocol: string, portName: string): PortRef {
  return { namespace, service, portName, protocol, name: servicePortName(namespace, service, portName) };
}

/** What a rule does when its text shows it: a kind explainServiceRule words, or words of its own. */
type RuleShape = [RegExp, (m: RegExpExecArray, chain: string) => ServiceRuleWhy | string];

function explainByShapes(shapes: RuleShape[], text: string, chain: string, mode: ProxyMode): string {
  for (const [pattern, why] of shapes) {
    const m = pattern.exec(text);
    if (!m) continue;
    const found = why(m, chain);
    return typeof found === 'string' ? found : explainServiceRule(found, text, mode);
  }
  return UNKNOWN;
}

// ---- nftables

/** "service-ULMVA6XW-ns/svc/tcp/http" or "endpoint-5OJB2KTY-ns/svc/tcp/http__10.0.0.1/80" (IPv6 colons written as dots). */
const NFT_NAME = /^(service|local|external|firewall|endpoint|affinity)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/([a-z]+)\/([^_]*?)(?:__(.+)\/(\d+))?$/;

function nftOwner(name: string): { prefix: string; port: PortRef; endpoint: string | null } | null {
  const m = NFT_NAME.exec(name);
  if (!m) return null;
  const [, prefix, namespace, service, protocol, portName, ip, port] = m;
  return { prefix: prefix!, port: portRef(namespace!, service!, protocol!, portName!), endpoint: ip ? `${ip}:${port}${ip.split('.').length > 4 ? ' (an IPv6 address, its colons written as dots)' : ''}` : null };
}

/** The Service port a name belongs to, in words; for an element or rule that sends traffic there. */
function nftOwnerWords(name: string): string {
  const owner = nftOwner(name);
  if (!owner) return `kube-proxy's chain ${name}`;
  return `${name}, the ${owner.prefix} chain of ${portWords(owner.port)}${owner.endpoint ? ` for endpoint ${owner.endpoint}` : ''}`;
}

const NFT_SHAPES: RuleShape[] = [
  [/^(?:ct state new )?jump \S+$/, (_m, chain) => ({ kind: 'hook', from: chain })],
  [/vmap @service-ips$/, () => ({ kind: 'dispatch-service-ips' })],
  [/vmap @service-nodeports$/, () => ({ kind: 'dispatch-nodeports' })],
  [/vmap @no-endpoint-services$/, () => ({ kind: 'check-no-endpoints' })],
  [/vmap @no-endpoint-nodeports$/, () => ({ kind: 'check-nodeport-no-endpoints' })],
  [/vmap @firewall-ips$/, () => ({ kind: 'check-firewall' })],
  [/^reject$/, () => ({ kind: 'reject' })],
  [/comment "Reject traffic to invalid ports of ClusterIPs"$/, () => ({ kind: 'cluster-ip-bad-port' })],
  [/comment "Drop traffic to unallocated ClusterIPs"$/, () => ({ kind: 'cluster-ip-unallocated' })],
  [/saddr != .* comment "masquerade clusterIP traffic from outside cluster"$/, () => ({ kind: 'masquerade-off-cluster' })],
  [/comment "masquerade clusterIP traffic from outside cluster"$/, () => ({ kind: 'masquerade-all' })],
  [/^meta mark & \S+ != \S+ meta mark set meta mark \^ \S+ masquerade fully-random$/, () => ({ kind: 'masquerade' })],
  [/@hairpin-connections masquerade fully-random$/, () => ({ kind: 'masquerade-hairpin' })],
  [/comment "masquerade"$/, () => ({ kind: 'external-masquerade' })],
  [/comment "short-circuit pod traffic"$/, () => ({ kind: 'external-pod-short-circuit' })],
  [/comment "masquerade local traffic"$/, () => ({ kind: 'external-local-masquerade' })],
  [/comment "short-circuit local traffic"$/, () => ({ kind: 'external-local-short-circuit' })],
  [/^goto (\S+)$/, () => ({ kind: 'external-policy' })],
  [/^numgen random mod (\d+) vmap/, (m) => ({ kind: 'balance', share: { index: 0, count: Number(m[1]), probability: null } })],
  [/dnat ip6? to numgen random mod (\d+) map/, (m) => ({ kind: 'balance-dnat', share: { index: 0, count: Number(m[1]), probability: null } })],
  [/saddr @\S+ goto (\S+)$/, (m) => `sessionAffinity ClientIP: a client in this endpoint's affinity set (seen recently) goes back to ${nftOwnerWords(m[1]!)}.`],
  [/^update @\S+ \{ ip6? saddr \}$/, () => 'Records the client\'s address in this endpoint\'s affinity set, so the affinity check sends it here again until it has been idle for the set\'s timeout.'],
  [/dnat to (\S+)$/, (m) => `Rewrites the destination to ${m[1]}: this is the NAT that delivers the connection.`],
];

function nftSetExplanation(set: NftSet): string {
  const owner = set.name.startsWith('affinity-') ? nftOwner(set.name) : null;
  if (owner) return `The session affinity set (ClientIP) of ${portWords(owner.port)}, endpoint ${owner.endpoint}: the clients seen recently, each kept until it has been idle for the timeout.`;
  return set.comment ? `kube-proxy's ${set.kind} ${set.name}: ${set.comment}.` : `The ${set.kind} ${set.name}.`;
}

function nftElementExplanation(set: NftSet, key: string, comment: string | null, value: string | null): string {
  const target = value ? /^goto (\S+)$/.exec(value)?.[1] : undefined;
  if (target) return `Traffic to ${key} goes to ${nftOwnerWords(target)}.`;
  if (set.name.startsWith('no-endpoint-')) return `${comment ?? 'A Service port'} has no endpoint for this traffic: it is ${value === 'drop' ? 'dropped (traffic policy Local, none on this node)' : 'rejected at once'}.`;
  if (set.name === 'cluster-ips') return 'A ClusterIP of a Service: traffic to it on a port its Service does not have is rejected.';
  if (set.name === 'nodeport-ips') return 'An address of this node that accepts NodePort traffic.';
  if (set.name === 'hairpin-connections') return 'An endpoint on this node: if it reaches itself through its Service, the connection is masqueraded (hairpin).';
  if (set.flags.includes('dynamic')) return 'A client recorded for session affinity (live data).';
  return `An element of ${set.name}.`;
}

export function explainNftByShape(tables: NftTable[]): AnnotatedLine[] {
  const lines: AnnotatedLine[] = [];
  for (const table of tables) {
    if (table.name !== 'kube-proxy') {
      lines.push(info(`table ${table.family} ${table.name} {`, 'Not kube-proxy\'s table: left out.'));
      continue;
    }
    lines.push(info(`table ${table.family} kube-proxy {`, `kube-proxy's own table for ${table.family === 'ip6' ? 'IPv6' : 'IPv4'} Services and endpoints.`));
    for (const set of table.sets) {
      lines.push(info(`\t${set.kind} ${set.name} {`, nftSetExplanation(set)));
      for (const e of set.elements) lines.push(info(`\t\t${nftElementText(e)}`, nftElementExplanation(set, e.key, e.comment, e.value)));
    }
    for (const chain of table.chains) {
      const owner = nftOwner(chain.name);
      const chainWhy = owner
        ? (owner.prefix === 'endpoint' ? `One endpoint of ${portWords(owner.port)}: ${owner.endpoint}.` : explainServiceChain({ kind: owner.prefix as 'service' | 'local' | 'external', port: owner.port }, chain.name, 'nftables'))
        : explainServiceChain({ kind: chain.hook ? 'base' : 'plumbing' }, chain.name, 'nftables');
      lines.push(info(`\tchain ${chain.name} {`, chainWhy));
      for (const rule of chain.rules) lines.push(info(`\t\t${rule}`, explainByShapes(NFT_SHAPES, rule, chain.name, 'nftables')));
    }
  }
  return lines;
}

// ---- iptables

/** kube-proxy's comment on a rule names the Service port ("ns/name:port", or "ns/name" for an unnamed port) among other words. */
const IPTABLES_COMMENT = /--comment "?([^"]*)"?/;
const SERVICE_PORT_WORD = /(?:^| )([a-z0-9-]+)\/([a-z0-9.-]+)(?::([a-z0-9-]+))?(?= |$)/;
const protocolOf = (rule: string) => / -p (\w+)/.exec(` ${rule}`)?.[1] ?? null;

/** The Service port a rule's comment names; its protocol from the rule, else from its chain (`-p` is on some rules only). */
function iptablesPort(rule: string, chainProtocol: string | null): PortRef | null {
  const m = SERVICE_PORT_WORD.exec(IPTABLES_COMMENT.exec(rule)?.[1] ?? '');
  const protocol = protocolOf(rule) ?? chainProtocol;
  return m && protocol ? portRef(m[1]!, m[2]!, protocol, m[3] ?? '') : null;
}

/** The shapes of iptables rules; those of one Service port need the port its comment names. */
function iptablesShapes(port: PortRef | null): RuleShape[] {
  const p = (kind: ServiceRuleWhy['kind'], extra: Partial<ServiceRuleWhy> = {}): RuleShape[1] => () => (port ? { kind, port, ...extra } : UNKNOWN);
  return [
    [/ has no endpoints" .*-j REJECT/, p('no-endpoints', { verdict: 'reject', address: 'ClusterIP' })],
    [/ has no local endpoints" .*-j DROP/, p('no-endpoints', { verdict: 'drop', address: 'NodePort' })],
    [/ cluster IP" .*-j KUBE-(SVC|SVL)-/, p('dispatch-cluster-ip')],
    [/ external IP" .*-j KUBE-EXT-/, p('dispatch-external-ip')],
    [/ loadbalancer IP" .*-j KUBE-(EXT|FW)-/, p('dispatch-load-balancer')],
    [/^-d 127\.0\.0\.0\/8 .*--nfacct-name +localhost_nps_accepted_pkts -j KUBE-EXT-/, p('dispatch-nodeport-localhost')],
    [/--dport \d+ -j KUBE-EXT-/, p('dispatch-nodeport')],
    [/^! -s \S+ .* cluster IP" .*-j KUBE-MARK-MASQ$/, p('masquerade-off-cluster')],
    [/ cluster IP" .*-j KUBE-MARK-MASQ$/, p('masquerade-all')],
    [/^-s (\S+)\/(32|128) .*-j KUBE-MARK-MASQ$/, (m) => `If the endpoint ${m[1]} called its own Service and was chosen, the packet is marked for masquerade, so the reply does not go straight back to itself (hairpin).`],
    [/ -> (\S+)" .*--rcheck .*-j (KUBE-SEP-\S+)$/, (m) => `sessionAffinity ClientIP: a client in the recent list of ${m[1]} (seen recently) goes back to it (${m[2]}).`],
    [/ -> (\S+)" .*--probability (\S+) -j (KUBE-SEP-\S+)$/, (m) => `Taken with probability ${m[2]} of the connections that reach this rule: they go to ${m[1]} (${m[3]}).`],
    [/ -> (\S+)" -j (KUBE-SEP-\S+)$/, (m) => `The last (or only) endpoint: the connections no rule above took go to ${m[1]} (${m[2]}).`],
    [/--set --name (\S+) .*-j DNAT --to-destination (\S+)$/, (m) => `Records the client in the recent list ${m[1]} (session affinity) and rewrites the destination to ${m[2]}.`],
    [/-j DNAT --to-destination (\S+)$/, (m) => `Rewrites the destination to ${m[1]}: this is the NAT that delivers the connection.`],
    [/"masquerade traffic for \S+ external destinations" -j KUBE-MARK-MASQ$/, () => ({ kind: 'external-masquerade' })],
    [/"pod traffic for \S+ external destinations" -j KUBE-SV[CL]-/, () => ({ kind: 'external-pod-short-circuit' })],
    [/"masquerade LOCAL traffic for \S+ external destinations" .*-j KUBE-MARK-MASQ$/, () => ({ kind: 'external-local-masquerade' })],
    [/"route LOCAL traffic for \S+ external destinations" .*-j KUBE-SV[CL]-/, () => ({ kind: 'external-local-short-circuit' })],
    [/^-m comment --comment "kubernetes service nodeports; NOTE/, () => ({ kind: 'to-nodeports' })],
    [/-j MARK --set-xmark (0x[0-9a-f]+)\/\1$/, () => ({ kind: 'mark-for-masquerade' })],
    [/^-m mark ! --mark \S+ -j RETURN$/, () => ({ kind: 'masquerade-skip-unmarked' })],
    [/-j MARK --set-xmark 0x[0-9a-f]+\/0x0$/, () => ({ kind: 'masquerade-clear-mark' })],
    [/-j MASQUERADE --random-fully$/, () => ({ kind: 'masquerade' })],
    [/--ctstate INVALID .*-j DROP$/, () => ({ kind: 'forward-drop-invalid' })],
    [/"kubernetes forwarding rules" -m mark --mark/, () => ({ kind: 'forward-accept-marked' })],
    [/"kubernetes forwarding conntrack rule"/, () => ({ kind: 'forward-accept-established' })],
    [/"block incoming localnet connections"/, () => ({ kind: 'block-localnet' })],
    [/^-j KUBE-SV[CL]-\S+$/, (_m, chain) => (chain.startsWith('KUBE-EXT-') ? { kind: 'external-policy' } : UNKNOWN)],
    [/-j KUBE-[A-Z-]+$/, (_m, chain) => ({ kind: 'hook', from: chain })],
  ];
}

/** KUBE-SVC-/SVL-/EXT-/FW-/SEP- chains carry a hash; the Service port is in their rules' comments. */
const IPTABLES_SERVICE_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|SEP)-[A-Z2-7]{16}$/;
const IPTABLES_CHAIN_KIND = { SVC: 'service', SVL: 'local', EXT: 'external', FW: 'external' } as const;

export function explainIptablesByShape(save: IptablesSave): AnnotatedLine[] {
  const lines: AnnotatedLine[] = [];
  for (const table of save.tables) {
    // A chain whose own rules have no -p (KUBE-EXT-, KUBE-SVL-) takes the protocol of the rules that jump to
    // it, or of its sibling chains: a Service port's chains end in the same hash.
    const protocolByName = new Map<string, string>();
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        const protocol = protocolOf(rule);
        if (!protocol) continue;
        protocolByName.set(chain.name.slice(-16), protocol);
        const target = / -j (KUBE-\S+)$/.exec(rule)?.[1];
        if (target) protocolByName.set(target.slice(-16), protocol);
      }
    }
    const chainProtocol = (chain: IptablesChain) => chain.rules.map(protocolOf).find((p) => p !== null) ?? protocolByName.get(chain.name.slice(-16)) ?? null;
    lines.push(info(`*${table.name}`, `The ${table.name} table.`));
    for (const chain of table.chains) {
      const kind = IPTABLES_SERVICE_CHAIN.exec(chain.name)?.[1] as keyof typeof IPTABLES_CHAIN_KIND | 'SEP' | undefined;
      const protocol = chainProtocol(chain);
      const port = kind ? chain.rules.map((r) => iptablesPort(r, protocol)).find((p) => p !== null) ?? null : null;
      let chainWhy: string;
      if (kind && port) {
        const endpoint = kind === 'SEP' ? / --to-destination (\S+)$/.exec(chain.rules.find((r) => r.includes('--to-destination')) ?? '')?.[1] : undefined;
        chainWhy = kind === 'SEP' ? `One endpoint of ${portWords(port)}${endpoint ? `: ${endpoint}` : ''}.` : explainServiceChain({ kind: IPTABLES_CHAIN_KIND[kind], port }, chain.name, 'iptables');
      } else if (chain.name.startsWith('KUBE-')) chainWhy = kind ? `A chain of one Service port (its rules name none).` : `kube-proxy's chain ${chain.name}, the same on every node.`;
      else chainWhy = chain.policy === '-' ? `Chain ${chain.name}: not kube-proxy's.` : explainServiceChain({ kind: 'base' }, chain.name, 'iptables');
      lines.push(info(`:${chain.name} ${chain.policy} [0:0]`, chainWhy));
    }
    for (const chain of table.chains) {
      const own = chain.name.startsWith('KUBE-');
      const protocol = chainProtocol(chain);
      for (const rule of chain.rules) {
        const explanation = own || / -j KUBE-[A-Z-]+$/.test(` ${rule}`) ? explainByShapes(iptablesShapes(iptablesPort(rule, protocol)), rule, chain.name, 'iptables') : 'Not a rule of kube-proxy.';
        lines.push(info(`-A ${chain.name} ${rule}`, explanation));
      }
    }
    lines.push(info('COMMIT', `End of the ${table.name} table.`));
  }
  return lines;
}
