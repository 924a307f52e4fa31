// `netlab explain --service NS/NAME [--snapshot DIR | --live] [--node NAME]`: one Service as kube-proxy
// programs it in IPVS, nftables and iptables mode, side by side, with the endpoint choice they share once.
// Offline it reads the snapshot folder; live (no --snapshot) it reads the current kubeconfig context's objects.
import { type ServiceModesView, serviceModes } from '../../explain/service-modes.ts';
import type { AnnotatedLine } from '../../explain/types.ts';
import { wrapWords } from '../../report/wrap.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import { EXIT, UsageError } from '../io.ts';

function block(title: string, lines: AnnotatedLine[], explain: boolean): string {
  const out = [`== ${title} ==`];
  if (lines.length === 0) out.push('      (nothing for this Service)');
  for (const line of lines) {
    out.push(`      ${line.text.replaceAll('\t', '  ').trimEnd()}`);
    if (explain && line.explanation) out.push(wrapWords(line.explanation, 104, '          '));
  }
  return out.join('\n');
}

export function renderServiceModes(view: ServiceModesView, explain = true): string {
  const runs = (mode: string) => (view.configuredMode === mode ? ' (the mode kube-proxy is configured with)' : '');
  return [
    `Service ${view.service} as kube-proxy programs it on ${view.node}, in each of its modes.`,
    block('the endpoint choice (the same in every mode)', view.choice, explain),
    block(`IPVS mode: ipvsadm -Ln${runs('ipvs')}`, view.ipvs, explain),
    block(`nftables mode: nft list table ip kube-proxy${runs('nftables')}`, view.nftables, explain),
    block(`iptables mode: iptables-save${runs('iptables')}`, view.iptables, explain),
    'These are the model\'s tables; `netlab check` compares the mode a node runs with what it really shows.',
  ].join('\n\n') + '\n';
}

export async function explainServiceCommand(opts: { service: string; snapshot?: string; node?: string; kubeconfig?: string; explain?: boolean }): Promise<number> {
  const m = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(opts.service);
  if (!m) throw new UsageError(`--service takes NAMESPACE/NAME, e.g. default/kubernetes; got ${JSON.stringify(opts.service)}`);
  let snapshot: ClusterSnapshot;
  if (opts.snapshot) {
    snapshot = await (await import('../../snapshot/load.ts')).loadSnapshotDir(opts.snapshot);
  } else {
    const [{ connect }, { fetchSnapshot }] = await Promise.all([import('./live.ts'), import('../../snapshot/from-api.ts')]);
    snapshot = await fetchSnapshot((await connect(opts.kubeconfig)).kc);
  }
  const node = opts.node ?? snapshot.nodes[0]?.name;
  if (!node) throw new UsageError('the cluster has no nodes');
  if (!snapshot.nodes.some((n) => n.name === node)) throw new UsageError(`node "${node}" is not in the snapshot`);
  if (!snapshot.services.some((s) => s.namespace === m[1] && s.name === m[2])) throw new UsageError(`Service ${opts.service} is not in the ${opts.snapshot ? `snapshot ${opts.snapshot}` : 'cluster'}`);
  process.stdout.write(renderServiceModes(serviceModes(snapshot, m[1]!, m[2]!, node), opts.explain ?? true));
  return EXIT.ok;
}
