// Renders a Trace for a terminal: one numbered block per hop with its verdict word, what the model
// expects, what the node showed, and why a hop is not OK.
import { answerText } from '../compare/dns.ts';
import { type Hop, type RouteChoice, type Trace, VERDICT_WORDS } from '../trace/types.ts';
import { wrapWords } from './wrap.ts';

const WIDTH = 96;
const INDENT = '      ';

const choiceText = (c: RouteChoice) => `${c.destination} via ${c.gateway} dev ${c.iface}`;

function details(hop: Hop): string[] {
  switch (hop.kind) {
    case 'dns': {
      const conf = hop.resolvConf;
      const out = [`resolv.conf (${conf.from === 'observed' ? 'observed' : 'model'}): nameserver ${conf.nameservers.join(' ') || '-'}; search ${conf.search.join(' ') || '-'}; ndots:${conf.ndots}`];
      hop.queries.forEach((q, i) => {
        const expected = q.expected ? answerText(q.expected) : 'decided upstream (not by the cluster)';
        const observed = q.observed ? `; observed ${answerText(q.observed)}` : '';
        out.push(`query ${i + 1} [${VERDICT_WORDS[q.verdict]}] ${q.name} ${q.type} -> ${expected}${observed}`);
      });
      return out;
    }
    case 'service':
      return [
        `${hop.mechanism}: ${hop.frontend.protocol} ${hop.frontend.address}:${hop.frontend.port}${hop.service ? ` = Service ${hop.service.namespace}/${hop.service.name}` : ''}; ${hop.balancing}`,
        ...hop.backends.map((b) => `-> ${b.address}:${b.port}${b.pod ? ` pod ${b.pod.namespace}/${b.pod.name}` : ''}${b.node ? ` on ${b.node}` : ''}`
          + `${b.probability === null ? '' : ` (chance ${Math.round(b.probability * 1000) / 10} %)`}`
          + `${b.observed === null ? '' : b.observed ? ' (listed by the node)' : ' (NOT listed by the node)'}${b.followed ? '  <- followed' : ''}`),
      ];
    case 'route':
      return [
        `expected: ${hop.expected ? choiceText(hop.expected) : 'no row of the model matches'}`,
        `observed: ${hop.observed === undefined ? 'not observed' : hop.observed === null ? 'no row matches' : choiceText(hop.observed)}`,
      ];
    case 'tunnel':
      return [`outer header: ${hop.outer.src ?? '?'} -> ${hop.outer.dst}, ${hop.outer.protocol}, device ${hop.device}`];
    case 'reply':
      return [`the reply reaches ${hop.to} from ${hop.from}`];
    default:
      return [];
  }
}

export function renderTrace(trace: Trace, opts: { explain?: boolean } = {}): string {
  const explain = opts.explain ?? true;
  const out = [`Trace from ${trace.request.from} to ${trace.request.to}`, wrapWords(trace.summary, WIDTH), ''];
  trace.hops.forEach((hop, i) => {
    out.push(`${String(i + 1).padStart(2)}. [${VERDICT_WORDS[hop.verdict]}] ${hop.title}`);
    for (const d of details(hop)) out.push(`${INDENT}${d}`);
    if (explain) out.push(wrapWords(hop.explanation, INDENT.length + WIDTH, INDENT));
    if (hop.reason && hop.verdict !== 'ok') out.push(wrapWords(`why ${VERDICT_WORDS[hop.verdict]}: ${hop.reason}`, INDENT.length + WIDTH, INDENT));
  });
  out.push('', wrapWords('Verdicts: OK = observed and as the model expects; BROKEN = the packet does not get through as expected here; '
    + 'NOT OBSERVED = the model\'s answer, nothing observed to compare; UNKNOWN = netlab cannot tell.', WIDTH));
  return out.join('\n') + '\n';
}
