// Help text is written as whole sentences and wrapped in one place, here, to the width it is shown at.
// commander's own wrapper is replaced by wrapHelpText, and the sections after the options (examples, exit
// codes) are built from the same pieces, so no hand-made line break ever lands in the middle of a sentence.
import type { Command } from 'commander';
import { wrapWords } from '../report/wrap.ts';

/** The terminal's width; $COLUMNS or 80 when the output is not a terminal (a pipe, a file). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (stream.isTTY && stream.columns) return stream.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}

/**
 * Wraps each line of `text` on its own: a line that starts with spaces keeps them and its continuation
 * lines are indented two further, so an indented list item stays visibly one item.
 */
export function wrapHelpText(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => {
      const indent = /^ */.exec(line)![0];
      if (line.length <= width || line.trim() === '') return line;
      return wrapWords(line, width, indent, indent ? `${indent}  ` : '');
    })
    .join('\n');
}

/**
 * A shell command that fits the width: too long, it is broken at spaces with a trailing backslash, which the
 * shell reads as one line, so it can still be copied and pasted.
 */
export function wrapCommand(command: string, width: number, indent: string): string {
  return wrapWords(command, width, indent, `${indent}    `, ' \\');
}

/** One part of a help section: a sentence (or several), or a command with what it does. */
export type HelpItem = string | { command: string; does?: string };

/** A titled section after the options: each sentence wrapped, each command under its title with its purpose below. */
export function helpSection(title: string, items: HelpItem[], width: number): string {
  const out = [`${title}:`];
  for (const item of items) {
    if (typeof item === 'string') out.push(wrapWords(item, width, '  '));
    else {
      out.push(wrapCommand(item.command, width, '  '));
      if (item.does) out.push(wrapWords(item.does, width, '      '));
    }
  }
  return out.join('\n');
}

/** Makes `program` and the commands added to it afterwards wrap their help with wrapHelpText at `width`. */
export function wrapHelpAt(program: Command, width: number): Command {
  return program
    .configureHelp({
      helpWidth: width,
      // commander leaves descriptions unwrapped below 40 columns of room; wrapping narrow is better than overflowing
      minWidthToWrap: 16,
      boxWrap: (text: string, room: number) => wrapHelpText(text, room),
    })
    .configureOutput({ getOutHelpWidth: () => width, getErrHelpWidth: () => width });
}

/** A titled section after a command's options, e.g. examples or exit codes. */
export type HelpSection = [title: string, items: HelpItem[]];

/** Adds sections after a command's own help, wrapped at `width`. */
export function addHelpSections(command: Command, width: number, sections: HelpSection[]): Command {
  return command.addHelpText('after', () => `\n${sections.map(([title, items]) => helpSection(title, items, width)).join('\n\n')}`);
}
