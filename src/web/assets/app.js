// netlab's page. It draws what the server sends (/api/state: the cluster and checkLab's results;
// /api/tables: one node's annotated tables; /api/trace: traceFlow's hops) and computes nothing of the model.
// Plain DOM and SVG, text set with textContent only.

const VERDICT_WORDS = { ok: 'OK', broken: 'BROKEN', expected: 'NOT OBSERVED', unknown: 'UNKNOWN' };
const LINE_WORDS = { ok: 'ok', mismatch: 'DIFF', unexpected: 'XTRA', missing: 'MISS', draining: 'drain', unmanaged: '--', expected: 'want', info: '' };
const LAYER_TITLES = { routes: 'route -n', ipvs: 'ipvsadm -Ln', nftables: 'nft list table ip kube-proxy', iptables: 'iptables-save', dns: 'DNS answers', resolvconf: 'resolv.conf' };
const RESULT_WORDS = { pass: 'PASS', fail: 'FAIL', unknown: 'UNKNOWN', skipped: 'skipped' };
const PAGE_LINES = 100;
const SVG_NS = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);

/** An HTML element with attributes and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function svgText(x, y, text, cls, anchor) {
  const t = svg('text', { x, y, class: cls, 'text-anchor': anchor });
  t.textContent = text;
  return t;
}

/** Cuts long names in the middle, where pod names differ least: "coredns-7…9v6wz". */
function shorten(text, max) {
  if (text.length <= max) return text;
  const keep = max - 1;
  return `${text.slice(0, Math.ceil(keep / 2))}…${text.slice(text.length - Math.floor(keep / 2))}`;
}

async function getJSON(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || `${url}: ${response.status}`);
  return body;
}

const page = { state: null, trace: null, selectedHop: -1, tables: null, highlight: [], pages: {} };

// ---------------------------------------------------------------- the cluster picture

const NODE_W = 300;
const POD_H = 18;
/** Pods listed in a node's box: all of a dozen on a small cluster, a few on a large one so it stays an overview. */
let maxPods = 12;

function nodeHeight(node) {
  const pods = Math.min(node.pods.length, maxPods) + (node.pods.length > maxPods ? 1 : 0);
  return 92 + pods * (POD_H + 3);
}

function drawPicture(nodes) {
  maxPods = nodes.length > 12 ? 4 : 12;
  const holder = $('picture');
  const columns = Math.max(1, Math.floor(Math.max(holder.clientWidth, 640) / (NODE_W + 16)));
  const rows = [];
  for (let i = 0; i < nodes.length; i += columns) rows.push(nodes.slice(i, i + columns));
  let y = 8;
  const boxes = [];
  for (const row of rows) {
    const h = Math.max(...row.map(nodeHeight));
    row.forEach((node, i) => boxes.push(nodeBox(node, 8 + i * (NODE_W + 16), y, h)));
    y += h + 16;
  }
  const width = Math.min(nodes.length, columns) * (NODE_W + 16) + 8;
  holder.replaceChildren(svg('svg', { width, height: y, viewBox: `0 0 ${width} ${y}`, role: 'group', 'aria-label': `${nodes.length} nodes` }, boxes));
}

function nodeBox(node, x, y, h) {
  const tunnel = node.tunnel ? `${node.tunnel.kind === 'ipip' ? 'tunl0' : 'vxlan.calico'} ${node.tunnel.address}` : 'no tunnel address';
  const label = `node ${node.name}, address ${node.address ?? 'unknown'}, ${tunnel}, blocks ${node.blocks.join(' ') || 'none'}, `
    + `${node.pods.length} pods, ${node.observed ? 'observed' : 'model only'}. Show its tables.`;
  const g = svg('g', { class: `node-box${node.observed ? '' : ' model-only'}`, tabindex: 0, role: 'button', 'aria-label': label, 'data-node': node.name, transform: `translate(${x},${y})` });
  g.append(
    svg('rect', { class: 'frame', width: NODE_W, height: h, rx: 6 }),
    svgText(10, 20, node.name, 'name'),
    svgText(NODE_W - 10, 20, node.observed ? 'observed' : 'model only', 'muted', 'end'),
    svgText(10, 38, `${node.address ?? '?'}  ·  ${tunnel}`),
    svgText(10, 55, `blocks ${node.blocks.join(', ') || '—'}`, 'muted'),
    svgText(10, 72, `${node.pods.length} pod${node.pods.length === 1 ? '' : 's'}${node.hostNetworkPods ? ` + ${node.hostNetworkPods} on the host network` : ''}`, 'muted'),
  );
  node.pods.slice(0, maxPods).forEach((pod, i) => {
    const py = 82 + i * (POD_H + 3);
    const podG = svg('g', { class: `pod${pod.ready ? '' : ' not-ready'}`, transform: `translate(10,${py})` });
    podG.append(svg('rect', { width: NODE_W - 20, height: POD_H, rx: 3 }), svgText(6, 13, `${shorten(`${pod.namespace}/${pod.name}`, 30)}  ${pod.ip ?? ''}${pod.ready ? '' : '  (not ready)'}`));
    g.append(podG);
  });
  if (node.pods.length > maxPods) g.append(svgText(12, 82 + maxPods * (POD_H + 3) + 13, `+ ${node.pods.length - maxPods} more pods (their routes are in the node's tables)`, 'muted'));
  const open = () => showTables(node.name, []);
  g.addEventListener('click', open);
  g.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open();
    }
  });
  return g;
}

function drawServices(services) {
  $('services').replaceChildren(...services.map((s) => el('li', {},
    el('button', {
      type: 'button',
      title: `Trace from the chosen pod to ${s.name}.${s.namespace}`,
      onclick: () => {
        $('trace-to').value = `${s.name}.${s.namespace}`;
        $('trace-to').focus();
      },
    }, el('strong', {}, `${s.namespace}/${s.name}`), ` ${s.type} ${s.vips.join(', ') || '(no address)'} · ${s.ports.join(', ')}`))));
}

// ---------------------------------------------------------------- checks

function drawLabs(labs) {
  $('lab-list').replaceChildren(...labs.map((lab) => {
    const layers = el('table', { class: 'layers' },
      el('thead', {}, el('tr', {}, ['layer', 'result', 'expected', 'observed', 'missing', 'unexpected', 'mismatched', 'notes'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, lab.layers.map((l) => el('tr', {},
        el('th', { scope: 'row' }, LAYER_TITLES[l.layer] ?? l.layer),
        el('td', { class: `result result-${l.status}` }, RESULT_WORDS[l.status] ?? l.status),
        ...['expected', 'observed', 'missing', 'unexpected', 'mismatched'].map((k) => el('td', {}, String(l.counts[k]))),
        el('td', {}, [...l.unknown.map((u) => `unknown: ${u}`), ...l.notes].join(' · '))))));
    const findings = lab.findings.length
      ? el('details', { open: lab.findings.length <= 10 },
        el('summary', {}, `${lab.findings.length} finding${lab.findings.length === 1 ? '' : 's'}`),
        el('ol', { class: 'findings' }, lab.findings.slice(0, 200).map((f) => el('li', {},
          el('strong', {}, `[${f.layer}/${f.kind}] `), f.message,
          el('div', { class: 'meta' }, `likely cause: ${f.cause} · look next: ${f.next}`)))),
        lab.findings.length > 200 ? el('p', {}, `… and ${lab.findings.length - 200} more (netlab check --json lists them all)`) : null)
      : el('p', {}, 'No findings: everything observed matches the model.');
    const conditions = lab.conditions.length
      ? el('table', { class: 'conditions' },
        el('caption', {}, 'Conditions'),
        el('thead', {}, el('tr', {}, ['type', 'status', 'reason', 'message'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, lab.conditions.map((c) => el('tr', {}, el('th', { scope: 'row' }, c.type), el('td', { class: 'result' }, c.status), el('td', {}, c.reason), el('td', {}, c.message)))))
      : null;
    return el('article', {}, el('h3', {}, lab.name), conditions, layers, findings);
  }));
}

// ---------------------------------------------------------------- the trace

const HOP_W = 190;
const HOP_H = 84;
const GAP = 34;

function hopLines(title) {
  const words = title.split(' ');
  const lines = [''];
  for (const w of words) {
    const last = lines[lines.length - 1];
    if ((last + ' ' + w).trim().length > 22 && last) lines.push(w);
    else lines[lines.length - 1] = (last + ' ' + w).trim();
  }
  return lines.slice(0, 2).map((l, i, all) => (i === 1 && all.length < lines.length ? `${l.slice(0, 20)}…` : shorten(l, 22)));
}

function drawTrace(trace) {
  page.trace = trace;
  page.selectedHop = -1;
  $('trace-summary').textContent = trace.summary;
  const holder = $('trace-diagram');
  const perRow = Math.max(2, Math.floor(Math.max(holder.clientWidth, 700) / (HOP_W + GAP)));
  const rows = Math.ceil(trace.hops.length / perRow);
  const width = Math.min(trace.hops.length, perRow) * (HOP_W + GAP);
  const height = rows * (HOP_H + 40) + 10;
  const items = [
    svg('defs', {}, svg('marker', { id: 'head', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }))),
  ];
  const pos = (i) => ({ x: 10 + (i % perRow) * (HOP_W + GAP), y: 10 + Math.floor(i / perRow) * (HOP_H + 40) });
  trace.hops.forEach((hop, i) => {
    if (i > 0) {
      const a = pos(i - 1);
      const b = pos(i);
      const d = a.y === b.y
        ? `M${a.x + HOP_W},${a.y + HOP_H / 2} L${b.x - 4},${b.y + HOP_H / 2}`
        : `M${a.x + HOP_W / 2},${a.y + HOP_H} L${a.x + HOP_W / 2},${a.y + HOP_H + 20} L${b.x + HOP_W / 2},${b.y - 20} L${b.x + HOP_W / 2},${b.y - 4}`;
      items.push(svg('path', { d, class: 'arrow', 'marker-end': 'url(#head)' }));
    }
    const { x, y } = pos(i);
    const word = VERDICT_WORDS[hop.verdict];
    const g = svg('g', {
      class: `hop verdict-${hop.verdict}`, tabindex: i === 0 ? 0 : -1, role: 'button', 'aria-pressed': 'false',
      'aria-label': `hop ${i + 1} of ${trace.hops.length}: ${hop.title}: ${word}`, 'data-hop': i, 'data-verdict': word, transform: `translate(${x},${y})`,
    });
    g.append(svg('rect', { class: 'ring', x: -5, y: -5, width: HOP_W + 10, height: HOP_H + 10, rx: 9 }), svg('rect', { class: 'frame', width: HOP_W, height: HOP_H, rx: 6 }));
    g.append(svgText(10, 20, `${i + 1}. ${hopKindWord(hop)}`, 'kind'));
    hopLines(hop.title).forEach((line, n) => g.append(svgText(10, 40 + n * 16, line)));
    g.append(svgText(10, HOP_H - 9, hop.verdict === 'broken' ? `✖ ${word}` : word, 'word'));
    g.addEventListener('click', () => selectHop(i, true));
    g.addEventListener('keydown', (e) => hopKey(e, i));
    items.push(g);
  });
  holder.replaceChildren(svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-label': `trace diagram, ${trace.hops.length} hops` }, items));
  $('hop-detail').replaceChildren(el('p', { class: 'hint' }, 'Select a hop to see what happens there and the table lines behind it.'));
  const firstBroken = trace.hops.findIndex((h) => h.verdict === 'broken');
  if (firstBroken >= 0) selectHop(firstBroken, false);
  document.body.dataset.traceReady = 'true';
}

function hopKindWord(hop) {
  return { source: 'source', dns: 'name lookup', service: `Service (${hop.mechanism ?? ''})`, route: hop.role === 'reply' ? 'reply route' : 'route', tunnel: 'tunnel', deliver: 'delivery', reply: 'reply' }[hop.kind] ?? hop.kind;
}

function hopElements() {
  return [...document.querySelectorAll('#trace-diagram .hop')];
}

function hopKey(event, index) {
  const hops = hopElements();
  const move = { ArrowRight: index + 1, ArrowDown: index + 1, ArrowLeft: index - 1, ArrowUp: index - 1, Home: 0, End: hops.length - 1 }[event.key];
  if (move !== undefined) {
    event.preventDefault();
    const target = Math.max(0, Math.min(hops.length - 1, move));
    hops.forEach((h, i) => h.setAttribute('tabindex', i === target ? '0' : '-1'));
    hops[target].focus();
  } else if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    selectHop(index, true);
  }
}

function selectHop(index, focusDetail) {
  const hop = page.trace.hops[index];
  page.selectedHop = index;
  hopElements().forEach((h, i) => {
    h.classList.toggle('selected', i === index);
    h.setAttribute('aria-pressed', String(i === index));
    h.setAttribute('tabindex', i === index ? '0' : '-1');
  });
  const word = VERDICT_WORDS[hop.verdict];
  const detail = [
    el('h3', { id: 'hop-title', tabindex: -1 }, `${index + 1}. ${hop.title} — `, el('span', { class: `badge verdict-${hop.verdict}` }, word)),
    el('p', {}, hop.explanation),
    hop.reason && hop.verdict !== 'ok' ? el('p', { class: 'why' }, `Why ${word}: ${hop.reason}`) : null,
    ...hopFacts(hop),
  ];
  if (hop.lines.length) {
    detail.push(el('p', {}, 'Table lines behind this hop (select one to show it in its table):'));
    detail.push(el('div', {}, hop.lines.map((line) => el('div', {}, el('button', {
      type: 'button', class: 'line-link', onclick: () => showTables(line.node, hop.lines, line),
    }, `${line.node ?? 'cluster'} · ${LAYER_TITLES[line.layer]} · ${line.text.trim()}`)))));
  }
  $('hop-detail').replaceChildren(...detail.filter(Boolean));
  if (focusDetail) $('hop-title').focus();
}

function factTable(head, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c))))));
}

function answerWords(answer) {
  if (!answer) return 'decided upstream (not by the cluster)';
  return answer.answers.length ? `${answer.rcode}: ${answer.answers.map((r) => `${r.type} ${r.data}`).join(', ')}` : answer.rcode === 'NOERROR' ? 'NOERROR, no records' : answer.rcode;
}

function routeWords(choice) {
  if (choice === undefined) return 'not observed';
  if (choice === null) return 'no row matches';
  return `${choice.destination} via ${choice.gateway} dev ${choice.iface}`;
}

function hopFacts(hop) {
  switch (hop.kind) {
    case 'dns':
      return [
        el('p', {}, `resolv.conf (${hop.resolvConf.from}): nameserver ${hop.resolvConf.nameservers.join(' ') || '—'}; search ${hop.resolvConf.search.join(' ') || '—'}; ndots:${hop.resolvConf.ndots}`),
        factTable(['#', 'query the resolver sends', 'verdict', 'the model says', 'observed'],
          hop.queries.map((q, i) => [String(i + 1), `${q.name} ${q.type}`, VERDICT_WORDS[q.verdict], answerWords(q.expected), q.observed ? answerWords(q.observed) : 'not observed'])),
      ];
    case 'service':
      return [
        el('p', {}, `${hop.mechanism}: ${hop.frontend.protocol} ${hop.frontend.address}:${hop.frontend.port}; ${hop.balancing}.`),
        factTable(['backend', 'pod', 'node', 'chance', 'listed by the node', 'followed'],
          hop.backends.map((b) => [`${b.address}:${b.port}`, b.pod ? `${b.pod.namespace}/${b.pod.name}` : 'no pod', b.node ?? '—',
            b.probability === null ? (hop.scheduler ? `by ${hop.scheduler}` : '—') : `${Math.round(b.probability * 1000) / 10} %`,
            b.observed === null ? 'not observed' : b.observed ? 'yes' : 'NO', b.followed ? 'followed' : ''])),
      ];
    case 'route':
      return [factTable(['', 'longest-prefix match'], [['expected', routeWords(hop.expected ?? null)], ['observed', routeWords(hop.observed)]])];
    case 'tunnel':
      return [el('p', {}, `Outer header: ${hop.outer.src ?? '?'} → ${hop.outer.dst}, ${hop.outer.protocol}, device ${hop.device}.`)];
    default:
      return [];
  }
}

async function runTrace(from, to, protocol) {
  const params = new URLSearchParams({ from, to });
  if (protocol) params.set('protocol', protocol);
  document.body.dataset.traceReady = 'false';
  try {
    drawTrace(await getJSON(`/api/trace?${params}`));
  } catch (error) {
    $('trace-summary').replaceChildren(el('span', { class: 'error' }, `Cannot trace: ${error.message}`));
    $('trace-diagram').replaceChildren();
    $('hop-detail').replaceChildren();
    document.body.dataset.traceReady = 'error';
  }
}

// ---------------------------------------------------------------- tables

async function showTables(node, highlight, focusLine) {
  const key = node ?? '';
  const select = $('node-select');
  select.value = key;
  page.highlight = highlight;
  if (!page.tables || page.tables.node !== node) {
    $('table-view').replaceChildren(el('p', {}, 'Loading…'));
    page.tables = await getJSON(`/api/tables?node=${encodeURIComponent(key)}`);
    page.pages = {};
  }
  // open the page that holds the line to show
  if (focusLine) {
    page.tables.sections.forEach((s, si) => {
      const at = s.lines.findIndex((l) => s.layer === focusLine.layer && l.text.trim() === focusLine.text.trim());
      if (at >= 0) page.pages[si] = Math.floor(at / PAGE_LINES);
    });
  }
  drawTables();
  document.querySelectorAll('.picture .node-box').forEach((g) => g.classList.toggle('selected', g.dataset.node === node));
  const target = focusLine ? document.querySelector('#table-view tr.highlight') : $('tables-title');
  if (focusLine && !target) {
    $('table-view').prepend(el('p', { class: 'hint', role: 'status' }, `“${focusLine.text.trim()}” is not a line of these tables: the check did not include it.`));
  }
  (target ?? $('tables-title')).scrollIntoView({ block: 'center' });
  if (target) target.focus();
}

/** The tables of a node, loaded without moving focus or scrolling (the page's first view). */
async function showTablesQuietly(node) {
  $('node-select').value = node;
  page.tables = await getJSON(`/api/tables?node=${encodeURIComponent(node)}`);
  page.pages = {};
  drawTables();
}

function isHighlighted(section, line) {
  return page.highlight.some((h) => h.layer === section.layer && h.node === section.node && h.text.trim() === line.text.trim());
}

function drawTables() {
  const { sections, node } = page.tables;
  if (!sections.length) {
    $('table-view').replaceChildren(el('p', {}, `No tables for ${node ?? 'the cluster'}: no check covered it.`));
    return;
  }
  $('table-view').replaceChildren(...sections.map((section, si) => {
    const pageNo = page.pages[si] ?? 0;
    const pages = Math.max(1, Math.ceil(section.lines.length / PAGE_LINES));
    const first = pageNo * PAGE_LINES;
    const shown = section.lines.slice(first, first + PAGE_LINES);
    const turn = (delta) => {
      page.pages[si] = Math.max(0, Math.min(pages - 1, pageNo + delta));
      drawTables();
      document.querySelector(`#section-${si} .pager button[data-dir="${delta}"]`)?.focus();
    };
    const pager = pages > 1 ? el('div', { class: 'pager' },
      el('button', { type: 'button', 'data-dir': -1, disabled: pageNo === 0, onclick: () => turn(-1) }, 'Previous page'),
      el('span', {}, `lines ${first + 1}–${first + shown.length} of ${section.lines.length}`),
      el('button', { type: 'button', 'data-dir': 1, disabled: pageNo >= pages - 1, onclick: () => turn(1) }, 'Next page')) : null;
    const title = `${section.node ? `${section.node}: ` : ''}${LAYER_TITLES[section.layer]} — ${section.observed ? 'observed' : 'expected only (nothing observed)'}`;
    return el('div', { id: `section-${si}` },
      el('h3', {}, title),
      pager,
      el('table', { class: 'section-table' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'verdict'), el('th', { scope: 'col' }, 'line'), el('th', { scope: 'col' }, 'what it means'))),
        el('tbody', {}, shown.map((line) => {
          const lit = isHighlighted(section, line);
          return el('tr', { class: `status-${line.status}${lit ? ' highlight' : ''}`, tabindex: lit ? -1 : null, 'aria-current': lit ? 'true' : null },
            el('td', { class: 'word' }, LINE_WORDS[line.status] ?? line.status),
            el('td', { class: 'text' }, line.text.trimEnd()),
            el('td', { class: 'explanation' }, line.explanation));
        }))));
  }));
}

// ---------------------------------------------------------------- start

async function start() {
  let state;
  try {
    state = await getJSON('/api/state');
  } catch (error) {
    $('origin').replaceChildren(el('span', { class: 'error' }, `Cannot load the cluster: ${error.message}`));
    return;
  }
  page.state = state;
  performance.mark('netlab:state-fetched');
  $('origin').textContent = `${state.origin} · ${state.cluster.nodes.length} nodes, ${state.cluster.nodes.reduce((n, x) => n + x.pods.length, 0)} pods, `
    + `${state.cluster.services.length} Services · computed ${new Date(state.computedAt).toLocaleString()}`;
  drawPicture(state.cluster.nodes);
  drawServices(state.cluster.services);
  drawLabs(state.labs);
  $('trace-sources').replaceChildren(...state.sources.map((s) => el('option', { value: s })));
  $('node-select').replaceChildren(el('option', { value: '' }, 'cluster-wide (DNS, resolv.conf)'), ...state.cluster.nodes.map((n) => el('option', { value: n.name }, n.name)));
  $('node-select').addEventListener('change', (e) => showTables(e.target.value || null, page.highlight));
  $('trace-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void runTrace($('trace-from').value.trim(), $('trace-to').value.trim(), $('trace-protocol').value);
  });
  document.body.dataset.ready = 'true';
  performance.mark('netlab:drawn');
  const firstObserved = state.cluster.nodes.find((n) => n.observed) ?? state.cluster.nodes[0];
  if (firstObserved) void showTablesQuietly(firstObserved.name);
  const params = new URLSearchParams(location.search);
  const first = params.get('from') && params.get('to') ? { from: params.get('from'), to: params.get('to') } : state.suggestedTrace;
  if (first) {
    $('trace-from').value = first.from;
    $('trace-to').value = first.to;
    await runTrace(first.from, first.to, params.get('protocol') ?? '');
  }
}

void start();
