// Lets a program inside a network namespace reach the harness apiserver on the host's loopback without any
// network between them: run inside the namespace as `node netns-relay.ts <port> <socket>`, it listens on the
// namespace's own 127.0.0.1:<port> and carries each connection over the unix socket <socket> (a file, so it
// crosses namespaces), where relayToApiserver() on the host side forwards it to the apiserver.
import net from 'node:net';

/** Host side: a unix socket at `socketPath` whose connections go to 127.0.0.1:`port`. */
export function relayToApiserver(socketPath: string, port: number): Promise<net.Server> {
  const server = net.createServer((inbound) => pipeBoth(inbound, net.connect(port, '127.0.0.1')));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

function pipeBoth(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
}

// Namespace side, when run as a script.
if (import.meta.main) {
  const [port, socketPath] = process.argv.slice(2);
  if (!port || !socketPath) throw new Error('usage: node netns-relay.ts <port> <unix socket>');
  net.createServer((inbound) => pipeBoth(inbound, net.connect(socketPath))).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
}
