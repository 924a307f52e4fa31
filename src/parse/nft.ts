// Parser for `nft list table FAMILY NAME` and `nft list ruleset` text (nft 1.0): tables with their sets,
// maps and chains. Rules are kept as nft prints them (the comparison matches them as text), minus a
// trailing "# handle N" (`nft -a`). Set properties that only tune the kernel's storage (size, gc-interval,
// policy, auto-merge) are read and not kept; any other line nft could print here is an error, not skipped.
import { decimalAt, LineScanner } from './scan.ts';
import type { NftChain, NftElement, NftSet, NftTable } from './types.ts';

const FORMAT = 'nft list';
const STORAGE_PROPERTIES = new Set(['size', 'gc-interval', 'policy', 'auto-merge']);

/** Every table of the listing, in order. */
export function parseNftTables(text: string, source = '<input>'): NftTable[] {
  const scan = new LineScanner(text, FORMAT, source);
  const tables: NftTable[] = [];
  let table: NftTable | null = null;
  let set: NftSet | null = null;
  let chain: NftChain | null = null;
  // A rule or an element list that spans lines: its lines are joined once, at the end (a map of 10,000 elements
  // is 10,000 lines; appending them one by one made a rope the garbage collector copied again and again).
  let pending: { lines: string[]; depth: number; into: 'rule' | 'elements' } | null = null;

  const finishPending = () => {
    const done = pending!;
    pending = null;
    const text = done.lines.join(' ');
    if (done.into === 'rule') chain!.rules.push(withoutHandle(text));
    else set!.elements = splitElements(text.trim(), scan);
  };

  while (scan.nextLine()) {
    const line = scan.line().trim();
    if (pending) {
      pending.lines.push(line);
      pending.depth += braceDepth(line);
      if (pending.depth === 0) finishPending();
      continue;
    }
    if (line === '') continue;
    if (line === '}') {
      if (set) set = null;
      else if (chain) chain = null;
      else if (table) {
        tables.push(table);
        table = null;
      } else throw scan.error('a "}" that closes nothing');
      continue;
    }
    if (!table) {
      const start = /^table (ip|ip6|inet|arp|bridge|netdev) (\S+) \{$/.exec(line);
      if (!start) throw scan.error('expected "table FAMILY NAME {"');
      table = { family: start[1]!, name: start[2]!, comment: null, sets: [], chains: [] };
      continue;
    }
    if (set) {
      const elements = /^elements = (\{.*)$/.exec(line);
      if (elements) {
        pending = { lines: [elements[1]!], depth: braceDepth(elements[1]!), into: 'elements' };
        if (pending.depth === 0) finishPending();
        continue;
      }
      const [word, ...rest] = line.split(' ');
      const value = rest.join(' ');
      if (word === 'type') set.type = value;
      else if (word === 'flags') set.flags = value.split(',');
      else if (word === 'timeout') set.timeout = value;
      else if (word === 'comment') set.comment = unquote(value, scan);
      else if (!STORAGE_PROPERTIES.has(word!)) throw scan.error(`an unknown ${set.kind} property ${JSON.stringify(word)}`);
      continue;
    }
    if (chain) {
      if (chain.rules.length === 0 && chain.hook === null && line.startsWith('type ') && line.includes(' hook ')) chain.hook = line;
      else if (chain.rules.length === 0 && line.startsWith('comment "')) chain.comment = unquote(line.slice('comment '.length), scan);
      else {
        const rule = withoutHandle(line);
        const depth = braceDepth(rule);
        if (depth < 0) throw scan.error('a rule with more "}" than "{"');
        if (depth === 0) chain.rules.push(rule);
        else pending = { lines: [rule], depth, into: 'rule' };
      }
      continue;
    }
    const object = /^(set|map|chain) (\S+) \{$/.exec(line);
    if (object) {
      const [, kind, name] = object;
      if (kind === 'chain') {
        chain = { name: name!, hook: null, comment: null, rules: [] };
        table.chains.push(chain);
      } else {
        set = { kind: kind as 'set' | 'map', name: name!, type: '', flags: [], timeout: null, comment: null, elements: [] };
        table.sets.push(set);
      }
      continue;
    }
    if (line.startsWith('comment "')) {
      table.comment = unquote(line.slice('comment '.length), scan);
      continue;
    }
    throw scan.error('expected a set, map or chain of the table (flowtables, counters, quotas and other objects are not read)');
  }
  if (pending || set || chain || table) throw scan.error('the listing ends inside a block (is it cut short?)');
  return tables;
}

/** The one table `family name` of a listing; an error names the tables it does have. */
export function parseNftTable(text: string, source = '<input>', family = 'ip', name = 'kube-proxy'): NftTable {
  return findNftTable(parseNftTables(text, source), source, family, name);
}

/** The table `family name` among a listing's tables; an error names the tables there are. */
export function findNftTable(tables: NftTable[], source: string, family: string, name: string): NftTable {
  const table = tables.find((t) => t.family === family && t.name === name);
  if (!table) {
    const found = tables.map((t) => `${t.family} ${t.name}`).join(', ') || 'none';
    throw new Error(`${source}: no table ${family} ${name} in the nft listing (tables: ${found})`);
  }
  return table;
}

const HANDLE = ' # handle ';

/** The rule without the " # handle N" that `nft -a` appends. */
function withoutHandle(rule: string): string {
  const at = rule.lastIndexOf(HANDLE);
  return at >= 0 && decimalAt(rule, at + HANDLE.length, rule.length) >= 0 ? rule.slice(0, at) : rule;
}

const QUOTE = 34;
const OPEN = 123;
const CLOSE = 125;
const COMMA = 44;

/** How many more "{" than "}" the text has, outside quoted strings. */
function braceDepth(text: string): number {
  if (text.indexOf('{') < 0 && text.indexOf('}') < 0) return 0; // most lines: one native scan each
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && c === OPEN) depth++;
    else if (!quoted && c === CLOSE) depth--;
  }
  return depth;
}

function unquote(text: string, scan: LineScanner): string {
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(text);
  if (!m) throw scan.error(`expected a quoted string, found ${JSON.stringify(text)}`);
  return m[1]!;
}

/** "{ a . b : goto x, c comment "y" : drop }" -> elements; per-element timeouts and expiry times are dropped. */
function splitElements(block: string, scan: LineScanner): NftElement[] {
  if (!block.startsWith('{') || !block.endsWith('}')) throw scan.error('elements must be a "{ … }" list');
  const inner = block.slice(1, -1);
  const parts: string[] = [];
  let quoted = false;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && c === OPEN) depth++;
    else if (!quoted && c === CLOSE) depth--;
    else if (!quoted && depth === 0 && c === COMMA) {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  const elements: NftElement[] = [];
  for (const untrimmed of parts) {
    const part = untrimmed.trim();
    if (part !== '') elements.push(readElement(part, scan));
  }
  return elements;
}

const ELEMENT = /^(.*?)(?: timeout \S+)?(?: expires \S+)?(?: comment "((?:[^"\\]|\\.)*)")?(?: : (.*))?$/;

/** "key", "key : value", with a comment, timeout or expiry between them. */
function readElement(part: string, scan: LineScanner): NftElement {
  // Most elements are "key" or "key : verdict": split on the one " : " instead of the regex's backtracking.
  if (part.indexOf('"') < 0 && part.indexOf(' timeout ') < 0 && part.indexOf(' expires ') < 0) {
    const colon = part.indexOf(' : ');
    if (colon > 0) return { key: part.slice(0, colon), comment: null, value: part.slice(colon + 3) };
    if (colon < 0) return { key: part, comment: null, value: null };
  }
  const m = ELEMENT.exec(part);
  if (!m || m[1] === '') throw scan.error(`cannot read the element ${JSON.stringify(part)}`);
  return { key: m[1]!, comment: m[2] ?? null, value: m[3] ?? null };
}
