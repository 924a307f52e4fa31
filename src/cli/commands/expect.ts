// `netlab expect --snapshot DIR --node NAME --format route|ipvsadm|resolv|nft|iptables-save`: the model's
// expectation printed in the tool's own text format, to diff against the real command on the node.
import { expectedIpvs } from '../../model/ipvs.ts';
import { expectedResolvConf } from '../../model/resolvconf.ts';
import { detectCni, expectedRoutes } from '../../model/routes/index.ts';
import { expectedIptables } from '../../model/services/iptables.ts';
import { expectedNftables } from '../../model/services/nftables.ts';
import { hasServicePortsOf } from '../../model/services/ports.ts';
import { renderExpectedIptables } from '../../render/iptables-save.ts';
import { renderIpvsadm } from '../../render/ipvsadm.ts';
import { renderExpectedNftTable } from '../../render/nft.ts';
import { renderResolvConf } from '../../render/resolvconf.ts';
import { renderRouteN } from '../../render/route.ts';
import { loadSnapshotDir } from '../../snapshot/load.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import { asFormat, EXIT, type Format, UsageError } from '../io.ts';

export function requireNode(snapshot: ClusterSnapshot, node: string | undefined): string {
  const names = snapshot.nodes.map((n) => n.name);
  if (!node) throw new UsageError(`--node is required: the snapshot has nodes ${names.join(', ')}`);
  if (!names.includes(node)) throw new UsageError(`node "${node}" is not in the snapshot (it has ${names.join(', ')})`);
  return node;
}

export interface ExpectOptions {
  node?: string;
  namespace: string;
  dnsPolicy: string;
}

/**
 * The expected text of one tool, and what the model wants the user to know about it (printed apart, on stderr,
 * so that stdout stays the tool's own format to diff).
 */
export function expectedText(snapshot: ClusterSnapshot, format: Format, opts: ExpectOptions): { text: string; notes: string[] } {
  if (format === 'resolv') return { text: renderResolvConf(expectedResolvConf(snapshot, { namespace: opts.namespace, dnsPolicy: opts.dnsPolicy })), notes: [] };
  const node = requireNode(snapshot, opts.node);
  switch (format) {
    case 'route': {
      const expected = expectedRoutes(snapshot, node);
      return { text: renderRouteN({ routes: expected.routes }), notes: [`CNI: ${detectCni(snapshot).evidence}`, ...expected.notes] };
    }
    case 'ipvsadm':
      return { text: renderIpvsadm({ services: expectedIpvs(snapshot, node).services }), notes: [] };
    case 'nft': {
      // the ip6 table too when the cluster has IPv6 Services, as `nft list ruleset` prints both
      const families = hasServicePortsOf(snapshot, 'IPv6') ? ['IPv4', 'IPv6'] as const : ['IPv4'] as const;
      const text = families.map((family) => renderExpectedNftTable(expectedNftables(snapshot, node, { family }))).join('');
      return { text, notes: [`kube-proxy's tables for ${families.join(' and ')}; nft prints set elements in the kernel's order, and several short ones on a line`] };
    }
    case 'iptables-save':
      return { text: renderExpectedIptables(expectedIptables(snapshot, node)), notes: ['rules of different Services in KUBE-SERVICES, KUBE-NODEPORTS and KUBE-EXTERNAL-SERVICES come in any order on the node (kube-proxy walks a Go map)'] };
  }
}

export async function expectCommand(opts: ExpectOptions & { snapshot: string; format: string }): Promise<number> {
  const format = asFormat(opts.format);
  const snapshot = await loadSnapshotDir(opts.snapshot);
  const { text, notes } = expectedText(snapshot, format, opts);
  for (const note of notes) process.stderr.write(`netlab: ${note}\n`);
  process.stdout.write(text);
  return EXIT.ok;
}
