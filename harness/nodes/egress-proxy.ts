// The apiserver's way to the kubelets: an HTTP CONNECT proxy on a unix socket, named in the apiserver's
// egress selector configuration (controlplane.ts). A Node's address (10.130.29.80:10250) exists only
// inside the VMs; the proxy maps it to the host loopback port QEMU forwards to that VM's kubelet, and
// refuses every other destination, so the apiserver can reach nothing but the node VMs through it.
import net from 'node:net';
import { rmSync } from 'node:fs';

export interface EgressProxy {
  socket: string;
  /** adds or replaces the loopback port that `address:port` (as the apiserver dials it) reaches */
  route(address: string, port: number, hostPort: number): void;
  close(): Promise<void>;
}

export async function startEgressProxy(socket: string, log: (line: string) => void = () => {}): Promise<EgressProxy> {
  const routes = new Map<string, number>();
  const server = net.createServer((client) => {
    client.once('error', () => client.destroy());
    readConnectRequest(client)
      .then(({ target, rest }) => {
        const hostPort = routes.get(target);
        if (hostPort === undefined) {
          log(`egress proxy: refused CONNECT ${target} (not a node VM's kubelet)`);
          client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        const upstream = net.connect(hostPort, '127.0.0.1', () => {
          client.write('HTTP/1.1 200 Connection established\r\n\r\n');
          if (rest.length > 0) upstream.write(rest);
          client.pipe(upstream).pipe(client);
        });
        upstream.once('error', (err) => {
          if (!client.writableEnded) client.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n`);
          log(`egress proxy: ${target} via 127.0.0.1:${hostPort}: ${err.message}`);
        });
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      })
      .catch((err: Error) => {
        log(`egress proxy: bad request: ${err.message}`);
        client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      });
  });
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socket, resolve));
  return {
    socket,
    route(address, port, hostPort) {
      routes.set(`${address}:${port}`, hostPort);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // open tunnels (exec streams) would hold close() forever
        server.unref();
        setTimeout(resolve, 1_000).unref();
      }),
  };
}

/** Reads `CONNECT host:port HTTP/1.1` and its headers; `rest` is whatever the client sent after them. */
function readConnectRequest(client: net.Socket): Promise<{ target: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > 8192) finish(new Error('request head longer than 8 KiB'));
        return;
      }
      const requestLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
      const match = /^CONNECT (\S+:\d+) HTTP\/1\.[01]$/.exec(requestLine);
      if (!match) return finish(new Error(`expected "CONNECT host:port HTTP/1.1", got ${JSON.stringify(requestLine)}`));
      finish(null, { target: match[1]!, rest: buffered.subarray(end + 4) });
    };
    const onEnd = () => finish(new Error('connection closed before the request ended'));
    const finish = (err: Error | null, value?: { target: string; rest: Buffer }) => {
      client.off('data', onData);
      client.off('end', onEnd);
      if (err) reject(err);
      else resolve(value!);
    };
    client.on('data', onData);
    client.once('end', onEnd);
  });
}
