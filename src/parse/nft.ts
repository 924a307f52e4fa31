// Parser for `nft list table FAMILY NAME` and `nft list ruleset` text (nft 1.0): tables with their sets,
// maps and chains. Rules are kept as nft prints them (the comparison matches them as text), minus a
// trailing "# handle N" (`nft -a`). Set properties that only tune the kernel's storage (size, gc-interval,
// policy, auto-merge) are read and not kept; any other line nft could print here is an error, not skipped.
import { LineScanner } from './scan.ts';
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
  let pending: { text: string; depth: number; into: 'rule' | 'elements' } | null = null;

  const finishPending = () => {
    const done = pending!;
    pending = null;
    if (done.into === 'rule') chain!.rules.push(withoutHandle(done.text));
    else set!.elements = splitElements(done.text.trim(), scan);
  };

  while (scan.nextLine()) {
    const line = scan.line().trim();
    if (pending) {
      pending.text += ` ${line}`;
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
        pending = { text: elements[1]!, depth: braceDepth(elements[1]!), into: 'elements' };
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
        else pending = { text: rule, depth, into: 'rule' };
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
  const tables = parseNftTables(text, source);
  const table = tables.find((t) => t.family === family && t.name === name);
  if (!table) {
    const found = tables.map((t) => `${t.family} ${t.name}`).join(', ') || 'none';
    throw new Error(`${source}: no table ${family} ${name} in the nft listing (tables: ${found})`);
  }
  return table;
}

const withoutHandle = (rule: string) => rule.replace(/ # handle \d+$/, '');

/** How many more "{" than "}" the text has, outside quoted strings. */
function braceDepth(text: string): number {
  let depth = 0;
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}') depth--;
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
    const c = inner[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const m = /^(.*?)(?: timeout \S+)?(?: expires \S+)?(?: comment "((?:[^"\\]|\\.)*)")?(?: : (.*))?$/.exec(part);
    if (!m || m[1] === '') throw scan.error(`cannot read the element ${JSON.stringify(part)}`);
    return { key: m[1]!, comment: m[2] ?? null, value: m[3] ?? null };
  });
}
