// Reads an observation from a folder, the offline counterpart of exec-ing on nodes:
//   <dir>/<node>/route-n.txt      `route -n` on that node
//   <dir>/<node>/ipvsadm-Ln.txt   `ipvsadm -Ln` on that node
//   <dir>/<node>/ip-addr.txt      `ip -o addr` on that node (optional: the node's interface addresses)
//   <dir>/<node>/nft-list-table.txt  `nft list table ip kube-proxy` on that node (nftables mode); on a
//                                    dual-stack cluster `nft list ruleset`, or `nft list table ip6 kube-proxy`
//                                    appended, so that the ip6 table (IPv6 Services) is checked too
//   <dir>/<node>/iptables-save.txt   `iptables-save` on that node (iptables mode; all tables)
//   <dir>/resolv.conf             /etc/resolv.conf of a pod (optional)
//   <dir>/dns.json                DNS answers (optional): [{query:{name,type}, server, answer:{rcode, answers:[{name,type,data}]}}]
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeObservation, Observation, ObservedDnsAnswer } from '../observation/types.ts';

export class ObservationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObservationError';
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ObservationError(`${path}: ${(e as Error).message}`);
  }
}

function parseDnsAnswers(text: string, path: string): ObservedDnsAnswer[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ObservationError(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw new ObservationError(`${path}: expected a JSON array of {query, server, answer}`);
  return data.map((item, i) => {
    const where = `${path}: item ${i}`;
    const q = item?.query;
    if (typeof q?.name !== 'string' || typeof q?.type !== 'string') throw new ObservationError(`${where}: query must have a name and a type`);
    const a = item.answer;
    if (typeof a?.rcode !== 'string' || !Array.isArray(a?.answers)) throw new ObservationError(`${where}: answer must have an rcode and an answers array`);
    return { query: { name: q.name, type: q.type }, server: String(item.server ?? 'unknown'), answer: { rcode: a.rcode, answers: a.answers } };
  });
}

export interface ObservationDirOptions {
  /** namespace and dnsPolicy of the pod whose resolv.conf is in the folder */
  namespace?: string;
  dnsPolicy?: string;
}

export async function readObservationDir(dir: string, opts: ObservationDirOptions = {}): Promise<Observation> {
  let entries;
  try {
    if (!(await stat(dir)).isDirectory()) throw new ObservationError(`${dir}: not a directory`);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (e instanceof ObservationError) throw e;
    throw new ObservationError(`observed folder ${dir} cannot be read: ${(e as Error).message}`);
  }
  const nodes: NodeObservation[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const routeN = await readIfPresent(join(dir, entry.name, 'route-n.txt'));
    const ipvsadmLn = await readIfPresent(join(dir, entry.name, 'ipvsadm-Ln.txt'));
    const ipAddr = await readIfPresent(join(dir, entry.name, 'ip-addr.txt'));
    const nftListTable = await readIfPresent(join(dir, entry.name, 'nft-list-table.txt'));
    const iptablesSave = await readIfPresent(join(dir, entry.name, 'iptables-save.txt'));
    const found = { routeN, ipvsadmLn, ipAddr, nftListTable, iptablesSave };
    if (Object.values(found).every((text) => text === undefined)) continue;
    // only the files that are there: an absent file leaves its layer "not observed" on this node
    nodes.push({ node: entry.name, ...Object.fromEntries(Object.entries(found).filter(([, text]) => text !== undefined)) });
  }
  const observation: Observation = { nodes };
  const resolv = await readIfPresent(join(dir, 'resolv.conf'));
  if (resolv !== undefined) observation.resolvConf = { namespace: opts.namespace ?? 'default', dnsPolicy: opts.dnsPolicy ?? 'ClusterFirst', text: resolv };
  const dnsPath = join(dir, 'dns.json');
  const dns = await readIfPresent(dnsPath);
  if (dns !== undefined) observation.dns = parseDnsAnswers(dns, dnsPath);
  if (!nodes.length && !observation.resolvConf && !observation.dns) {
    throw new ObservationError(`${dir}: no observation found (expected <node>/route-n.txt, <node>/ipvsadm-Ln.txt, <node>/ip-addr.txt, <node>/nft-list-table.txt, <node>/iptables-save.txt, resolv.conf or dns.json)`);
  }
  return observation;
}
