// `netlab expect --snapshot DIR --node NAME --format route|ipvsadm|resolv`: the model's expectation
// printed in the tool's own text format, to diff against the real command on the node.
import { expectedIpvs } from '../../model/ipvs.ts';
import { expectedResolvConf } from '../../model/resolvconf.ts';
import { detectCni, expectedRoutes } from '../../model/routes/index.ts';
import { renderIpvsadm } from '../../render/ipvsadm.ts';
import { renderResolvConf } from '../../render/resolvconf.ts';
import { renderRouteN } from '../../render/route.ts';
import { loadSnapshotDir } from '../../snapshot/load.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import { asFormat, EXIT, UsageError } from '../io.ts';

export function requireNode(snapshot: ClusterSnapshot, node: string | undefined): string {
  const names = snapshot.nodes.map((n) => n.name);
  if (!node) throw new UsageError(`--node is required: the snapshot has nodes ${names.join(', ')}`);
  if (!names.includes(node)) throw new UsageError(`node "${node}" is not in the snapshot (it has ${names.join(', ')})`);
  return node;
}

export async function expectCommand(opts: { snapshot: string; node?: string; format: string; namespace: string; dnsPolicy: string }): Promise<number> {
  const format = asFormat(opts.format);
  const snapshot = await loadSnapshotDir(opts.snapshot);
  let text: string;
  if (format === 'resolv') {
    text = renderResolvConf(expectedResolvConf(snapshot, { namespace: opts.namespace, dnsPolicy: opts.dnsPolicy }));
  } else {
    const node = requireNode(snapshot, opts.node);
    if (format === 'route') {
      const expected = expectedRoutes(snapshot, node);
      // stdout stays the tool's own format (to diff); which CNI's rules made it, and the model's notes, go to stderr
      for (const note of [`CNI: ${detectCni(snapshot).evidence}`, ...expected.notes]) process.stderr.write(`netlab: ${note}\n`);
      text = renderRouteN({ routes: expected.routes });
    } else {
      text = renderIpvsadm({ services: expectedIpvs(snapshot, node).services });
    }
  }
  process.stdout.write(text);
  return EXIT.ok;
}
