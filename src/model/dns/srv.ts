// SRV answers (coredns plugin/backend_lookup.go SRV, plugin/kubernetes kubernetes.go Services).
import { ipFamily } from '../../net/ip.ts';
import type { DnsRecord } from '../types.ts';
import { isNameserverName } from './address.ts';
import { type ModelAnswer, noerror, nxdomain } from './answer.ts';
import { type DnsContext, lookupRecords } from './records.ts';

/**
 * The SRV answer for a name under the cluster zone. Rules:
 * - a name that does not exist: NXDOMAIN ("_<port>._<proto>.<svc>.<ns>.svc" needs a port of that name
 *   and protocol; a bare "<svc>.<ns>.svc" matches every port, unnamed ones included);
 * - ExternalName entries are dropped (CoreDNS has no SRV for them), leaving NODATA;
 * - one record "0 <weight> <port> <target>" per entry, entries with port -1 (nothing declared) skipped,
 *   duplicates (same target and port) dropped; the target is the Service name for a ClusterIP Service,
 *   "<endpoint label>.<svc>.<ns>.svc.<zone>" for an endpoint;
 * - weight = floor(100 / N), at least 1, where N counts every entry before skipping and dropping (so a
 *   dual-stack ClusterIP Service gives one record of weight 50).
 */
export function srvAnswer(context: DnsContext, name: string): ModelAnswer {
  if (isNameserverName(context, name)) return noerror([], `${name} only has address records`);
  const lookup = lookupRecords(context, name);
  if (!lookup.found) return nxdomain(lookup.reason);
  const entries = lookup.entries.filter((e) => ipFamily(e.host) !== null);
  const weight = Math.max(1, Math.floor((100 / (100 * entries.length)) * 100));
  const records: DnsRecord[] = [];
  for (const entry of entries) {
    const data = `0 ${weight} ${entry.port} ${entry.owner}`;
    if (entry.port !== -1 && !records.some((r) => r.data.endsWith(` ${entry.port} ${entry.owner}`))) records.push({ name, type: 'SRV', data });
  }
  if (!records.length) {
    const why = lookup.entries.length && !entries.length ? `${lookup.about}; CoreDNS gives ExternalName Services no SRV records` : `${lookup.about}; no port is declared, so there is no SRV record`;
    return noerror([], lookup.entries.length ? why : `${lookup.about}, with no SRV records`);
  }
  return noerror(records, `${lookup.about}; one SRV record per target and port, weight ${weight} = 100 / ${entries.length}`);
}
