// Renders tables in `iptables-save` layout: "*table", the chain lines (built-in chains first, then the
// others sorted by name, as iptables-save prints them), the rules chain by chain, "COMMIT".
import type { IptablesSave } from '../parse/types.ts';

const BUILT_IN = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

export function renderIptablesSave(save: IptablesSave): string {
  const lines: string[] = [];
  for (const table of save.tables) {
    const chains = [...table.chains].sort((a, b) => {
      const x = BUILT_IN.indexOf(a.name);
      const y = BUILT_IN.indexOf(b.name);
      if (x !== -1 || y !== -1) return (x === -1 ? 99 : x) - (y === -1 ? 99 : y);
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    });
    lines.push(`*${table.name}`);
    for (const chain of chains) lines.push(`:${chain.name} ${chain.policy} [0:0]`);
    for (const chain of chains) for (const rule of chain.rules) lines.push(`-A ${chain.name} ${rule}`);
    lines.push('COMMIT');
  }
  return `${lines.join('\n')}\n`;
}
