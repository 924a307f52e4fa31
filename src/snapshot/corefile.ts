// A small reader for CoreDNS's Corefile: server blocks made of directives, where a directive
// may open a block of its own (`kubernetes cluster.local { pods insecure }`). It keeps line
// numbers so a bad setting can be named by line. Environment substitution and `import` are
// not expanded: kubeadm's and kind's Corefiles use neither.

export interface CorefileDirective {
  name: string;
  args: string[];
  /** the directives inside `{ ... }`; empty when the directive has no block */
  block: CorefileDirective[];
  line: number; // 1-based
}

export interface CorefileServer {
  /** the server block's keys, e.g. [".:53"] */
  keys: string[];
  directives: CorefileDirective[];
  line: number;
}

interface Token {
  text: string; // a word, "{", "}" or "\n"
  line: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = index + 1;
    const content = rawLine.replace(/#.*$/, '');
    for (const match of content.matchAll(/"[^"]*"|[{}]|[^\s{}]+/g)) {
      tokens.push({ text: match[0].replace(/^"(.*)"$/, '$1'), line });
    }
    tokens.push({ text: '\n', line });
  });
  return tokens;
}

/** Parses a Corefile; throws an Error naming the line when braces do not balance. */
export function parseCorefile(text: string): CorefileServer[] {
  const tokens = tokenize(text);
  let position = 0;

  const peek = (): Token | undefined => tokens[position];

  function skipNewlines(): void {
    while (peek()?.text === '\n') position++;
  }

  // Reads directives up to the closing "}" of the block that `opener` opened.
  function readBlock(opener: Token): CorefileDirective[] {
    const directives: CorefileDirective[] = [];
    for (;;) {
      skipNewlines();
      const token = peek();
      if (token === undefined) throw new Error(`line ${opener.line}: "{" is never closed`);
      if (token.text === '}') {
        position++;
        return directives;
      }
      if (token.text === '{') throw new Error(`line ${token.line}: "{" without a directive name`);
      const args: string[] = [];
      position++;
      let block: CorefileDirective[] = [];
      for (let next = peek(); next !== undefined && next.text !== '\n' && next.text !== '}'; next = peek()) {
        position++;
        if (next.text === '{') {
          block = readBlock(next);
          break;
        }
        args.push(next.text);
      }
      directives.push({ name: token.text, args, block, line: token.line });
    }
  }

  const servers: CorefileServer[] = [];
  for (skipNewlines(); peek() !== undefined; skipNewlines()) {
    const first = peek() as Token;
    const keys: string[] = [];
    let opener = peek();
    // Server keys may span lines ("a.local b.local\n{" is legal), so newlines are skipped here.
    while (opener !== undefined && opener.text !== '{') {
      if (opener.text === '}') throw new Error(`line ${opener.line}: "}" without an open block`);
      if (opener.text !== '\n') keys.push(opener.text);
      position++;
      opener = peek();
    }
    if (opener === undefined) throw new Error(`line ${first.line}: server block ${keys.join(' ')} has no "{"`);
    position++;
    servers.push({ keys, directives: readBlock(opener), line: first.line });
  }
  return servers;
}
