// The help text of every command: no line is wider than the terminal it is shown on, and no sentence is
// broken by a line break that the width did not force (none is written into the texts, the wrapper makes
// only forced ones, and commander uses that wrapper).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram, HELP_AFTER } from '../../src/cli/main.ts';
import { helpSection, wrapCommand, wrapHelpText } from '../../src/cli/help.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `--help` of the program and of every command under it, as commander prints it, at this width. */
function allHelp(width: number): Map<string, string> {
  let out = '';
  const program = buildProgram({ width, writeOut: (text) => (out += text), writeErr: (text) => (out += text) });
  const texts = new Map<string, string>();
  const visit = (command: Command, name: string) => {
    out = '';
    command.outputHelp();
    texts.set(name, out);
    for (const sub of command.commands) visit(sub, `${name} ${sub.name()}`);
  };
  visit(program, 'netlab');
  return texts;
}

/** Every text the help is made of: descriptions and summaries of the commands, options and arguments, and the sections after them. */
function helpSources(): string[] {
  const texts: string[] = [];
  const visit = (command: Command) => {
    texts.push(command.description(), command.summary());
    for (const option of command.options) texts.push(option.description);
    for (const argument of command.registeredArguments) texts.push(argument.description);
    command.commands.forEach(visit);
  };
  visit(buildProgram());
  for (const [title, items] of Object.values(HELP_AFTER).flat()) texts.push(title, ...items.flatMap((item) => (typeof item === 'string' ? [item] : [item.command, item.does ?? ''])));
  return texts.filter(Boolean);
}

/** Line breaks written inside a sentence: not after the end of a sentence or clause (. or :), nor before an indented list line. */
function breaksInsideSentences(text: string): string[] {
  const lines = text.split('\n');
  return lines.slice(1).flatMap((line, i) => (/[.:]$/.test(lines[i]!) || /^  \S/.test(line) ? [] : [`${lines[i]} / ${line}`]));
}

/** Breaks the wrapper made although the next word would have fitted (`mark`: what it adds to a broken line). */
function unforcedBreaks(wrapped: string, width: number, mark = ''): string[] {
  const lines = wrapped.split('\n').map((line) => (mark && line.endsWith(mark) ? line.slice(0, -mark.length) : line));
  return lines.slice(1).flatMap((line, i) => {
    const fits = lines[i]!.length + 1 + line.trimStart().split(' ')[0]!.length + mark.length <= width;
    return fits ? [`${lines[i]} / ${line}`] : [];
  });
}

describe('help text of every command', () => {
  test('covers the program, its commands and the lab subcommands', () => {
    expect([...allHelp(80).keys()]).toEqual(expect.arrayContaining([
      'netlab', 'netlab demo', 'netlab check', 'netlab expect', 'netlab explain', 'netlab parse',
      'netlab lab', 'netlab lab up', 'netlab lab down', 'netlab lab status',
    ]));
  });

  test.each([70, 80, 100, 132])('no line is wider than a %i-column terminal', (width) => {
    const tooWide = [...allHelp(width)].flatMap(([name, text]) => text.split('\n').filter((l) => l.length > width).map((l) => `${name}: ${l}`));
    expect(tooWide).toEqual([]);
  });

  test('no help text has a line break inside a sentence: one place, the wrapper, breaks lines', () => {
    const sources = helpSources();
    expect(sources.length).toBeGreaterThan(60);
    expect(sources.flatMap(breaksInsideSentences)).toEqual([]);
  });

  test('the check finds the break that hand-wrapped help had', () => {
    expect(breaksInsideSentences('the routes Calico programs on each node (`route -n`),\nthe virtual servers kube-proxy programs')).toHaveLength(1);
    expect(breaksInsideSentences('Two ways:\n  offline: files\n  live: a cluster')).toEqual([]);
  });

  test.each([70, 80, 132])('at %i columns the wrapper breaks a line only where the next word does not fit', (width) => {
    // line by line: the breaks written into the texts are the test above's business
    const unforced = helpSources().flatMap((text) => text.split('\n')).flatMap((line) => [
      ...unforcedBreaks(wrapHelpText(line, width), width),
      ...unforcedBreaks(wrapCommand(line, width, '  '), width, ' \\'),
    ]);
    expect(unforced).toEqual([]);
  });

  test('commander wraps with the same wrapper: the program description comes out as wrapHelpText makes it', () => {
    const description = buildProgram().description();
    expect(allHelp(80).get('netlab')).toContain(wrapHelpText(description, 80));
    expect(allHelp(60).get('netlab')).toContain(wrapHelpText(description, 60));
  });

  test('a sentence given on one line comes out whole at a wide terminal', () => {
    const check = allHelp(1000).get('netlab check')!;
    expect(check).toContain('Live, with --lab NAME, --all or neither: the current kubeconfig context, observed through the netlab-probe DaemonSet (the routes and kube-proxy\'s rules of every node, in the mode it runs).');
    expect(allHelp(1000).get('netlab')).toContain('the routes Calico programs on each node (`route -n`), the virtual servers kube-proxy programs in IPVS mode (`ipvsadm -Ln`),');
  });

  test('a shell command too long for the terminal is continued with a backslash, so it still pastes as one line', () => {
    const command = 'kubectl get ippools.crd.projectcalico.org,ipamblocks.crd.projectcalico.org -o yaml > snap/calico.yaml';
    const wrapped = wrapCommand(command, 70, '  ');
    expect(wrapped).toBe('  kubectl get \\\n      ippools.crd.projectcalico.org,ipamblocks.crd.projectcalico.org \\\n      -o yaml > snap/calico.yaml');
    expect(wrapped.replace(/ \\\n\s+/g, ' ').trim()).toBe(command);
    expect(helpSection('Example', [{ command, does: 'If the cluster runs Calico.' }], 70).split('\n').at(-1)).toBe('      If the cluster runs Calico.');
  });

  test('netlab wraps to $COLUMNS when its output is not a terminal, else to 80 columns', () => {
    const help = (columns?: string) => spawnSync(process.execPath, [join(root, 'bin/netlab.js'), 'check', '--help'], {
      encoding: 'utf8', env: { ...process.env, COLUMNS: columns },
    }).stdout.split('\n');
    expect(Math.max(...help('72').map((l) => l.length))).toBeLessThanOrEqual(72);
    expect(Math.max(...help('72').map((l) => l.length))).toBeGreaterThan(60);
    expect(Math.max(...help(undefined).map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(Math.max(...help('200').map((l) => l.length))).toBeGreaterThan(100);
  });
});
