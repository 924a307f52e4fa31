// Renders a table in the layout of `nft list table` (nft 1.0): tab indents, sets and maps first, then
// chains; one element per line in long element lists (nft wraps them, which the parser accepts either way).
// Lines go through a LineWriter: a node's table is tens of thousands of lines.
import type { NodeNftables } from '../model/types.ts';
import type { NftChain, NftElement, NftSet, NftTable } from '../parse/types.ts';
import { LineWriter } from './lines.ts';

export function nftElementText(e: NftElement): string {
  return `${e.key}${e.comment !== null ? ` comment "${e.comment}"` : ''}${e.value !== null ? ` : ${e.value}` : ''}`;
}

/** nft's continuation indent inside "elements = { …": under the first element */
const ELEMENT_INDENT = '\t\t\t     ';

function renderNftSet(set: NftSet, out: LineWriter): void {
  out.line(`\t${set.kind} ${set.name} {`);
  out.line(`\t\ttype ${set.type}`);
  if (set.flags.length) out.line(`\t\tflags ${set.flags.join(',')}`);
  if (set.timeout !== null) out.line(`\t\ttimeout ${set.timeout}`);
  if (set.comment !== null) out.line(`\t\tcomment "${set.comment}"`);
  const last = set.elements.length - 1;
  set.elements.forEach((element, i) => {
    out.line(`${i === 0 ? '\t\telements = { ' : ELEMENT_INDENT}${nftElementText(element)}${i === last ? ' }' : ','}`);
  });
  out.line('\t}');
}

function renderNftChain(chain: NftChain, out: LineWriter): void {
  out.line(`\tchain ${chain.name} {`);
  if (chain.hook !== null) out.line(`\t\t${chain.hook}`);
  if (chain.comment !== null) out.line(`\t\tcomment "${chain.comment}"`);
  for (const rule of chain.rules) out.line(`\t\t${rule}`);
  out.line('\t}');
}

export function renderNftTable(table: NftTable): string {
  const out = new LineWriter();
  out.line(`table ${table.family} ${table.name} {`);
  if (table.comment !== null) out.line(`\tcomment "${table.comment}"`);
  const blocks = table.sets.length + table.chains.length;
  let written = 0;
  const separate = () => {
    if (++written < blocks) out.line('');
  };
  for (const set of table.sets) {
    renderNftSet(set, out);
    separate();
  }
  for (const chain of table.chains) {
    renderNftChain(chain, out);
    separate();
  }
  out.line('}');
  return out.text();
}

/** The model's table as `nft list table` prints it (each element on its own line; affinity sets without the kernel's "size"). */
export function renderExpectedNftTable(table: NodeNftables): string {
  return renderNftTable({ ...table, chains: table.chains.map((c) => ({ ...c, rules: c.rules.map((r) => r.text) })) });
}
