// Renders a table in the layout of `nft list table` (nft 1.0): tab indents, sets and maps first, then
// chains; long element lists on one line (nft wraps them, which the parser accepts either way).
import type { NftChain, NftElement, NftSet, NftTable } from '../parse/types.ts';

export function nftElementText(e: NftElement): string {
  return `${e.key}${e.comment !== null ? ` comment "${e.comment}"` : ''}${e.value !== null ? ` : ${e.value}` : ''}`;
}

export function renderNftSet(set: NftSet): string[] {
  const lines = [`\t${set.kind} ${set.name} {`, `\t\ttype ${set.type}`];
  if (set.flags.length) lines.push(`\t\tflags ${set.flags.join(',')}`);
  if (set.timeout !== null) lines.push(`\t\ttimeout ${set.timeout}`);
  if (set.comment !== null) lines.push(`\t\tcomment "${set.comment}"`);
  if (set.elements.length) lines.push(`\t\telements = { ${set.elements.map(nftElementText).join(',\n\t\t\t     ')} }`);
  lines.push('\t}');
  return lines;
}

export function renderNftChain(chain: NftChain): string[] {
  return [
    `\tchain ${chain.name} {`,
    ...(chain.hook !== null ? [`\t\t${chain.hook}`] : []),
    ...(chain.comment !== null ? [`\t\tcomment "${chain.comment}"`] : []),
    ...chain.rules.map((rule) => `\t\t${rule}`),
    '\t}',
  ];
}

export function renderNftTable(table: NftTable): string {
  const blocks = [...table.sets.map(renderNftSet), ...table.chains.map(renderNftChain)];
  const lines = [`table ${table.family} ${table.name} {`, ...(table.comment !== null ? [`\tcomment "${table.comment}"`] : [])];
  blocks.forEach((block, i) => lines.push(...block, ...(i < blocks.length - 1 ? [''] : [])));
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
