#!/usr/bin/env node
// netlab is written in TypeScript and run by Node's type stripping (Node 22.18+, 24 LTS recommended).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`netlab needs Node.js 22.18 or newer (24 LTS recommended); this is ${process.version}.\n`);
  process.exit(2);
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
