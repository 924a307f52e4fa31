#!/usr/bin/env node
// netlab is written in TypeScript and run by Node's type stripping (Node 22.18+, 24 LTS recommended).
import module from 'node:module';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`netlab needs Node.js 22.18 or newer (24 LTS recommended); this is ${process.version}.\n`);
  process.exit(2);
}
// Node keeps the type-stripped and compiled modules in its compile cache (in the temporary folder, or
// $NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off): from the second run on, netlab starts
// without stripping the types of its modules again. A cache that cannot be written is skipped silently.
module.enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
