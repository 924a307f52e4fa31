// The Flags column of `route -n` in words, shared by every CNI's explanations.

export function flagWords(flags: string): string {
  const words: string[] = [];
  if (flags.includes('!')) words.push('! = reject');
  if (flags.includes('U')) words.push('U = up');
  if (flags.includes('G')) words.push('G = via a gateway');
  if (flags.includes('H')) words.push('H = a single host (/32)');
  return words.length ? ` (flags ${flags}: ${words.join(', ')})` : '';
}
