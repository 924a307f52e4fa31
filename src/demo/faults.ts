// Faults the demo injects into real captured output, to show what each kind of breakage looks like.
// Each fault is a named, pure edit of the text; it throws when its anchor line is gone, so a changed
// example fails loudly instead of silently injecting nothing.
import type { Layer } from '../compare/types.ts';

export interface Fault {
  name: string;
  layer: Layer;
  file: 'route-n' | 'ipvsadm-Ln' | 'resolv.conf';
  /** what the edit does, printed by the demo */
  description: string;
  apply(text: string): string;
}

function replaceLine(text: string, match: RegExp, replace: (line: string) => string[] , fault: string): string {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => match.test(l));
  if (index < 0) throw new Error(`demo fault "${fault}": no line matches ${match} in the example output`);
  lines.splice(index, 1, ...replace(lines[index]!));
  return lines.join('\n');
}

export const DEMO_FAULTS: Fault[] = [
  {
    name: 'stale real server',
    layer: 'ipvs',
    file: 'ipvsadm-Ln',
    description: 'adds a real server 10.244.0.139:53 (a CoreDNS pod that no longer exists) behind TCP 10.96.0.10:53; the line is written in ipvsadm\'s own layout',
    apply: (text) => replaceLine(text, /^TCP {2}10\.96\.0\.10:53 /, (l) => [l, '  -> 10.244.0.139:53              Masq    1      0          0         '], 'stale real server'),
  },
  {
    name: 'missing tunnel route',
    layer: 'routes',
    file: 'route-n',
    description: 'deletes the tunl0 route to block 10.244.2.0/24 (the pods of node-3)',
    apply: (text) => replaceLine(text, /^10\.244\.2\.0 /, () => [], 'missing tunnel route'),
  },
  {
    name: 'wrong scheduler',
    layer: 'ipvs',
    file: 'ipvsadm-Ln',
    description: 'changes the scheduler of TCP 10.96.0.1:443 from rr to sh, as `ipvsadm -E -t 10.96.0.1:443 -s sh` would',
    apply: (text) => replaceLine(text, /^TCP {2}10\.96\.0\.1:443 rr$/, () => ['TCP  10.96.0.1:443 sh'], 'wrong scheduler'),
  },
  {
    name: 'wrong ndots',
    layer: 'resolvconf',
    file: 'resolv.conf',
    description: 'changes `options ndots:5` to `options ndots:2` in the pod\'s resolv.conf',
    apply: (text) => replaceLine(text, /^options ndots:5$/, () => ['options ndots:2'], 'wrong ndots'),
  },
];
