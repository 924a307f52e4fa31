// Explanations without a snapshot (`netlab explain FILE` alone): no model says what a line is for, so each
// line is explained from its shape. They must never claim what they cannot know: a search list in the
// kubelet's shape is recognised as such, an `options` line the file lacks is not shown, counters of
// --stats/--rate listings are kept and read out.
import { IPVS_COUNTER_COLUMNS, type IpvsListing } from '../parse/ipvsadm.ts';
import type { IpvsRealServer, IpvsService, IpvsTable, ResolvConf, RouteTable } from '../parse/types.ts';
import { renderIpvsServiceLine, renderRealServerLine } from '../render/ipvsadm.ts';
import { renderRouteLine } from '../render/route.ts';
import { explainOptions, explainSearch } from './resolvconf.ts';
import { explainUnaccountedRoute } from './routes/index.ts';
import { describeScheduler } from './schedulers.ts';
import type { AnnotatedLine } from './types.ts';

const info = (text: string, explanation: string): AnnotatedLine => ({ text, status: 'info', explanation });

export function explainRoutesByShape(table: RouteTable): AnnotatedLine[] {
  return table.routes.map((r) => info(renderRouteLine(r), explainUnaccountedRoute(r, null, false).replace(' Not managed by the CNI.', '')));
}

/** rules, --stats or --rate: the listing the parsed table came from, told by its counter columns. */
function listingOf(table: IpvsTable): IpvsListing {
  const counters = table.services.find((s) => s.counters)?.counters;
  if (!counters) return 'rules';
  return IPVS_COUNTER_COLUMNS.rate.every((column) => column in counters) ? 'rate' : 'stats';
}

const COUNTER_WORDS: Record<string, string> = {
  Conns: 'connections', InPkts: 'packets in', OutPkts: 'packets out', InBytes: 'bytes in', OutBytes: 'bytes out',
  CPS: 'connections per second', InPPS: 'packets per second in', OutPPS: 'packets per second out', InBPS: 'bytes per second in', OutBPS: 'bytes per second out',
};

function counterWords(counters: IpvsService['counters'], listing: 'stats' | 'rate'): string {
  const numbers = IPVS_COUNTER_COLUMNS[listing].map((column) => `${counters?.[column] ?? '?'} ${COUNTER_WORDS[column]}`).join(', ');
  return listing === 'stats' ? `${numbers}, counted since the virtual server was created` : `${numbers}, averaged over the last seconds`;
}

function explainServiceByShape(s: IpvsService, listing: IpvsListing): string {
  if (listing !== 'rules') return `Virtual server: ${counterWords(s.counters, listing)}.`;
  const parts = [`Virtual server: ${s.scheduler ?? ''} = ${describeScheduler(s.scheduler)}`];
  if (s.persistent !== null) parts.push(`persistent ${s.persistent} = a client sticks to one real server for ${s.persistent} s of idleness (sessionAffinity: ClientIP)`);
  if (s.realServers.length === 0) parts.push('no real servers: connections to it fail (kube-proxy keeps the virtual server of a Service without ready endpoints)');
  return `${parts.join('; ')}.`;
}

function explainRealServerByShape(rs: IpvsRealServer, listing: IpvsListing): string {
  if (listing !== 'rules') return `Real server: ${counterWords(rs.counters, listing)}.`;
  const how = `${rs.forward ?? 'forward method not shown'}, weight ${rs.weight ?? '-'}`;
  if (rs.weight === 0) return `Real server, draining: weight 0 = no new connections; the ones it has (${rs.activeConn ?? '?'} active, ${rs.inactConn ?? '?'} inactive) finish (${how}).`;
  return `Real server: connections are forwarded here (${how}).`;
}

export function explainIpvsByShape(table: IpvsTable): AnnotatedLine[] {
  const listing = listingOf(table);
  return table.services.flatMap((s) => [
    info(renderIpvsServiceLine(s, listing), explainServiceByShape(s, listing)),
    ...s.realServers.map((rs) => info(renderRealServerLine(rs, listing), explainRealServerByShape(rs, listing))),
  ]);
}

export function explainResolvConfByShape(conf: ResolvConf): AnnotatedLine[] {
  const lines = conf.nameservers.map((ns) => info(`nameserver ${ns}`, 'A DNS server the resolver asks, in order.'));
  if (conf.search.length) lines.push(info(`search ${conf.search.join(' ')}`, explainSearch(conf.search, null)));
  const options = Object.entries(conf.options);
  if (options.length) {
    lines.push(info(`options ${options.map(([k, v]) => (v === null ? k : `${k}:${v}`)).join(' ')}`, explainOptions(conf.options, conf.search)));
  }
  return lines;
}
