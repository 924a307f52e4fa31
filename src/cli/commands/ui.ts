// `netlab ui`: the page on localhost, from captured files (--snapshot [--observed]) or from the current
// kubeconfig context (every node observed once through the probe pods). Runs until Ctrl-C.
import { checkLab, DEFAULT_CHECKS } from '../../check/check.ts';
import { readObservationDir } from '../../observe/files.ts';
import { loadSnapshotDir } from '../../snapshot/load.ts';
import { fetchSnapshot } from '../../snapshot/from-api.ts';
import type { PageInput } from '../../web/state.ts';
import { startWebServer } from '../../web/server.ts';
import { EXIT, UsageError } from '../io.ts';
import { checkOneLab, connect, defaultLab, observers, probePods } from './live.ts';

export interface UiOptions {
  snapshot?: string;
  observed?: string;
  namespace: string;
  dnsPolicy: string;
  kubeconfig?: string;
  port: string;
  host: string;
}

/** The page's data from captured files: checkLab over every node of the snapshot (unobserved ones show the model). */
export async function offlinePage(snapshotDir: string, observedDir: string | undefined, resolv: { namespace: string; dnsPolicy: string }): Promise<PageInput> {
  const snapshot = await loadSnapshotDir(snapshotDir);
  const observation = observedDir ? await readObservationDir(observedDir, resolv) : null;
  const report = checkLab(snapshot, observation ?? { nodes: [] }, { layers: DEFAULT_CHECKS });
  return {
    origin: `offline: ${snapshotDir}${observedDir ? ` observed in ${observedDir}` : ' (nothing observed: the model only)'}`,
    snapshot, observation, labs: [{ name: 'netlab check', report }], computedAt: new Date().toISOString(),
  };
}

async function livePage(kubeconfig: string | undefined): Promise<PageInput> {
  const cluster = await connect(kubeconfig);
  const [snapshot, pods] = await Promise.all([fetchSnapshot(cluster.kc), probePods(cluster)]);
  process.stderr.write(`netlab: observing ${snapshot.nodes.length} nodes of ${cluster.server} through the probe pods ...\n`);
  const lab = defaultLab();
  const { report, observation } = await checkOneLab(observers(cluster, pods), snapshot, lab);
  return { origin: `live: context "${cluster.kc.getCurrentContext()}" (${cluster.server})`, snapshot, observation, labs: [{ name: lab.key, report }], computedAt: new Date().toISOString() };
}

export async function uiCommand(opts: UiOptions): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got ${JSON.stringify(opts.port)}`);
  if (opts.observed && !opts.snapshot) throw new UsageError('--observed needs --snapshot (offline); without both, the page shows the live cluster');
  const input = opts.snapshot ? await offlinePage(opts.snapshot, opts.observed, opts) : await livePage(opts.kubeconfig);
  let server;
  try {
    server = await startWebServer({ current: () => input }, { port, host: opts.host });
  } catch (error) {
    throw new UsageError(`cannot serve on ${opts.host}:${port}: ${(error as Error).message}`);
  }
  process.stdout.write(`netlab ui: serving ${server.url} (read-only; Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return EXIT.ok;
}
