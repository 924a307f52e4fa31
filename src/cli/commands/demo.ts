// `netlab demo` (= `npm start`): the whole pipeline on the built-in seed cluster, then again with faults.
// `--proxy-mode nftables|iptables` shows the same cluster with kube-proxy in that mode instead of IPVS.
import { fileURLToPath } from 'node:url';
import { checkLab, DEFAULT_CHECKS, resolveChecks, type ServiceLayer } from '../../check/check.ts';
import type { Observation } from '../../observation/types.ts';
import { DEMO_FAULTS } from '../../demo/faults.ts';
import { readObservationDir } from '../../observe/files.ts';
import { renderFinding, renderNotChecked, renderReport, renderSection, renderSummary } from '../../report/text.ts';
import { loadSnapshotDir } from '../../snapshot/load.ts';
import { EXIT } from '../io.ts';

const EXAMPLE = fileURLToPath(new URL('../../../examples/seed/', import.meta.url));

/** Applies the demo's faults to the real observation; every edit is named in the output. */
export function injectFaults(observation: Observation): Observation {
  const edit = (file: 'route-n' | 'ipvsadm-Ln' | 'resolv.conf', text: string) =>
    DEMO_FAULTS.filter((f) => f.file === file).reduce((t, f) => f.apply(t), text);
  return {
    ...observation,
    nodes: observation.nodes.map((n) => ({
      ...n,
      routeN: typeof n.routeN === 'string' ? edit('route-n', n.routeN) : n.routeN,
      ipvsadmLn: typeof n.ipvsadmLn === 'string' ? edit('ipvsadm-Ln', n.ipvsadmLn) : n.ipvsadmLn,
    })),
    resolvConf: observation.resolvConf && typeof observation.resolvConf.text === 'string'
      ? { ...observation.resolvConf, text: edit('resolv.conf', observation.resolvConf.text) }
      : observation.resolvConf,
  };
}

const MODE_NAME: Record<ServiceLayer, string> = { ipvs: 'IPVS', nftables: 'nftables', iptables: 'iptables' };

export async function demoCommand(opts: { explain: boolean; proxyMode: ServiceLayer }): Promise<number> {
  const out = (s: string) => process.stdout.write(s + '\n');
  const seed = await loadSnapshotDir(`${EXAMPLE}snapshot`);
  // The article's cluster runs IPVS mode; another mode is its kube-proxy ConfigMap with that mode instead.
  const snapshot = seed.kubeProxy.mode === opts.proxyMode ? seed : { ...seed, kubeProxy: { ...seed.kubeProxy, mode: opts.proxyMode } };
  const captured = seed.kubeProxy.mode === opts.proxyMode;
  // Named explicitly: "services" would follow node-1's captured ipvsadm -Ln, the only Service table it shows.
  const layers = resolveChecks(DEFAULT_CHECKS, snapshot);
  const observation = await readObservationDir(`${EXAMPLE}observed`);
  const mode = MODE_NAME[opts.proxyMode];
  out(`netlab demo: the cluster of the source article (3 nodes 10.130.29.80-82, Calico IPIP, kube-proxy ${mode}${captured ? '' : ' (--proxy-mode; the article\'s runs IPVS)'}, CoreDNS 10.96.0.10).`);
  out(`Snapshot: ${snapshot.nodes.length} nodes, ${snapshot.pods.length} pods, ${snapshot.services.length} services (examples/seed/snapshot).`);
  out('Observed: real captured output of node-1 (examples/seed/observed; its README says where every line comes from).');
  if (!captured) out(`No capture of this cluster in ${mode} mode exists: node-1's ${mode} rules are the model's expectation, shown and explained but not checked.`);
  out('node-2 and node-3 have no captured output: their tables are the model\'s expectation only. No DNS answers were captured.\n');
  const observedNodes = observation.nodes.map((n) => n.node);
  const unobserved = snapshot.nodes.map((n) => n.name).filter((n) => !observedNodes.includes(n));
  out(`━━━ Pass 1: the real observation of ${observedNodes.join(', ')} ━━━\n`);
  const clean = checkLab(snapshot, observation, { layers, nodes: observedNodes });
  out(renderReport(clean, { explain: opts.explain }));
  if (unobserved.length) {
    out(`━━━ What ${unobserved.join(' and ')} must show (the model only: no capture of these nodes exists) ━━━\n`);
    const expectedOnly = checkLab(snapshot, { nodes: [] }, { layers: layers.filter((l) => l !== 'dns' && l !== 'resolvconf'), nodes: unobserved });
    out(expectedOnly.sections.map((s) => renderSection(s, opts.explain)).join('\n\n') + '\n');
  }

  out('━━━ Pass 2: the same observation with injected faults ━━━');
  // A fault in a file the check does not read (ipvsadm -Ln in another mode) could not be found.
  const faults = DEMO_FAULTS.filter((f) => layers.includes(f.layer));
  for (const f of faults) out(`  - ${f.name} (${f.file}): ${f.description}`);
  const skipped = DEMO_FAULTS.filter((f) => !faults.includes(f));
  if (skipped.length) out(`  (left out: ${skipped.map((f) => f.name).join(', ')}; they edit ${[...new Set(skipped.map((f) => f.file))].join(', ')}, which ${mode} mode does not read)`);
  out('');
  const faulty = checkLab(snapshot, injectFaults(observation), { layers, nodes: observedNodes });
  out(renderSummary(faulty));
  const notChecked = renderNotChecked(faulty);
  if (notChecked) out(`\n${notChecked}`);
  const findings = Object.values(faulty.layers).flatMap((r) => r.findings);
  out(`\nFindings (${findings.length})`);
  out(findings.map(renderFinding).join('\n'));
  out('\nThe same demo in kube-proxy\'s other modes: `netlab demo --proxy-mode nftables` (or iptables); the kube-dns Service in all three side by side: `netlab explain --service kube-system/kube-dns --snapshot examples/seed/snapshot`.');
  out('Try it on your own cluster: `netlab check --snapshot DIR --observed DIR` (see `netlab check --help`).');
  // The demo succeeds when the clean pass has no findings and every injected fault was found.
  const cleanFindings = Object.values(clean.layers).reduce((n, r) => n + r.findings.length, 0);
  return cleanFindings === 0 && findings.length >= faults.length ? EXIT.ok : EXIT.findings;
}
