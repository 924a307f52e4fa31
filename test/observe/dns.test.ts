// The prober against a tiny DNS server started on 127.0.0.1 in this test. The server's answers are
// built here with dns-packet (they imitate what CoreDNS sends; no real DNS server is involved).
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, Packet, Question } from 'dns-packet';
import { createDnsProber, createRateLimiter, UDP_SENDS } from '../../src/observe/dns.ts';
import type { Clock, DnsServer } from '../../src/observe/dns.ts';

type Transport = 'udp' | 'tcp';
interface Reply {
  rcode?: number; // low four bits of the flags
  truncated?: boolean;
  answers?: Answer[];
  /** send nothing: the client must time out */
  silent?: boolean;
  /** first send a datagram with another id carrying these records (a late answer to some earlier query) */
  strayFirst?: Answer[];
}
type Handler = (question: Question, transport: Transport) => Reply;

interface TestServer {
  port: number;
  seen: string[]; // "udp A name", in arrival order
  close(): Promise<void>;
}

const NXDOMAIN = 3;
const FORMERR = 1;

function response(query: Packet, reply: Reply): Buffer {
  const flags = (reply.rcode ?? 0) | (reply.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0);
  return dnsPacket.encode({ type: 'response', id: query.id, flags, questions: query.questions, answers: reply.answers ?? [] });
}

/** UDP and TCP on the same port, as a DNS server listens, so a truncated answer can be retried over TCP. */
async function startServer(handler: Handler): Promise<TestServer> {
  const seen: string[] = [];
  const answer = (query: Packet, transport: Transport): Reply => {
    const question = query.questions![0]!;
    seen.push(`${transport} ${question.type} ${question.name}`);
    return handler(question, transport);
  };
  const tcp = net.createServer((socket) => {
    socket.once('data', (data) => {
      const query = dnsPacket.decode(data.subarray(2));
      const reply = answer(query, 'tcp');
      if (reply.silent) return;
      const body = response(query, reply);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(body.length);
      // Two writes with a pause between them: the client must reassemble the framed message.
      socket.write(length);
      setTimeout(() => socket.end(body), 20);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  udp.on('message', (data, peer) => {
    const query = dnsPacket.decode(data);
    const reply = answer(query, 'udp');
    if (reply.silent) return;
    if (reply.strayFirst) {
      const stray = { ...query, id: (query.id! + 1) & 0xffff };
      udp.send(response(stray, { answers: reply.strayFirst }), peer.port, peer.address);
    }
    udp.send(response(query, reply), peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, '127.0.0.1', resolve);
  });
  return {
    port,
    seen,
    close: async () => {
      udp.close();
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
}

const a = (name: string, data: string): Answer => ({ type: 'A', name, ttl: 30, data });

describe('DNS prober', () => {
  let server: TestServer;
  let handler: Handler;
  // Answers are awaited 3 s, so a slow test machine does not make the prober ask once more (at each third of the
  // timeout) than a test counts; the timeout tests wait 300 ms.
  const prober = createDnsProber({ timeoutMs: 3000, maxQueriesPerSecond: 1000 });
  const impatient = createDnsProber({ timeoutMs: 300, maxQueriesPerSecond: 1000 });
  const at = (transport: Transport): DnsServer => ({ host: '127.0.0.1', port: server.port, transport });

  beforeAll(async () => {
    server = await startServer((question, transport) => handler(question, transport));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.seen.length = 0;
  });

  test.each<Transport>(['udp', 'tcp'])('returns rcode and records as plain data over %s', async (transport) => {
    handler = (q) => ({
      answers: [
        { type: 'SRV', name: q.name, ttl: 30, data: { priority: 0, weight: 50, port: 80, target: 'Web.Shop.svc.cluster.local' } },
        { type: 'SRV', name: q.name, ttl: 30, data: { priority: 0, weight: 50, port: 8080, target: 'web-b.shop.svc.cluster.local' } },
      ],
    });
    const answer = await prober.query({ name: '_HTTP._tcp.web.shop.svc.cluster.local', type: 'SRV' }, at(transport));
    expect(answer).toEqual({
      rcode: 'NOERROR',
      answers: [
        { name: '_http._tcp.web.shop.svc.cluster.local', type: 'SRV', data: '0 50 80 web.shop.svc.cluster.local' },
        { name: '_http._tcp.web.shop.svc.cluster.local', type: 'SRV', data: '0 50 8080 web-b.shop.svc.cluster.local' },
      ],
    });
    expect(server.seen).toEqual([`${transport} SRV _HTTP._tcp.web.shop.svc.cluster.local`]);
  });

  test('maps CNAME, PTR and TXT data and lower-cases targets', async () => {
    handler = (q) => ({
      answers:
        q.type === 'CNAME'
          ? [{ type: 'CNAME', name: q.name, ttl: 30, data: 'Backend.Example.ORG' }]
          : q.type === 'PTR'
            ? [{ type: 'PTR', name: q.name, ttl: 30, data: 'web.shop.svc.cluster.local' }]
            : [{ type: 'TXT', name: q.name, ttl: 30, data: ['1.1.0'] }],
    });
    const cname = await prober.query({ name: 'ext.shop.svc.cluster.local', type: 'CNAME' }, at('udp'));
    const ptr = await prober.query({ name: '10.0.96.10.in-addr.arpa', type: 'PTR' }, at('udp'));
    const txt = await prober.query({ name: 'dns-version.cluster.local', type: 'TXT' }, at('udp'));
    expect(cname.answers).toEqual([{ name: 'ext.shop.svc.cluster.local', type: 'CNAME', data: 'backend.example.org' }]);
    expect(ptr.answers).toEqual([{ name: '10.0.96.10.in-addr.arpa', type: 'PTR', data: 'web.shop.svc.cluster.local' }]);
    expect(txt.answers).toEqual([{ name: 'dns-version.cluster.local', type: 'TXT', data: '1.1.0' }]);
  });

  test('reports NXDOMAIN with no records', async () => {
    handler = () => ({ rcode: NXDOMAIN });
    const answer = await prober.query({ name: 'nope.shop.svc.cluster.local', type: 'A' }, at('udp'));
    expect(answer).toEqual({ rcode: 'NXDOMAIN', answers: [] });
  });

  test('retries over TCP when the UDP answer is truncated', async () => {
    const all = ['10.244.1.5', '10.244.2.7', '10.244.3.9'].map((ip) => a('db.shop.svc.cluster.local', ip));
    handler = (_q, transport) => (transport === 'udp' ? { truncated: true, answers: all.slice(0, 1) } : { answers: all });
    const answer = await prober.query({ name: 'db.shop.svc.cluster.local', type: 'A' }, at('udp'));
    expect(answer.answers.map((r) => r.data)).toEqual(['10.244.1.5', '10.244.2.7', '10.244.3.9']);
    expect(server.seen).toEqual(['udp A db.shop.svc.cluster.local', 'tcp A db.shop.svc.cluster.local']);
  });

  test('ignores a UDP datagram whose id is not the query id', async () => {
    handler = () => ({
      strayFirst: [a('web.shop.svc.cluster.local', '10.96.0.99')],
      answers: [a('web.shop.svc.cluster.local', '10.96.0.20')],
    });
    const answer = await prober.query({ name: 'web.shop.svc.cluster.local', type: 'A' }, at('udp'));
    expect(answer.answers).toEqual([{ name: 'web.shop.svc.cluster.local', type: 'A', data: '10.96.0.20' }]);
  });

  test.each<Transport>(['udp', 'tcp'])('times out over %s with an error naming the server and the query', async (transport) => {
    handler = () => ({ silent: true });
    await expect(impatient.query({ name: 'slow.shop.svc.cluster.local', type: 'AAAA' }, at(transport))).rejects.toThrow(
      `DNS AAAA slow.shop.svc.cluster.local to 127.0.0.1:${server.port}/${transport}: no response within 300 ms`,
    );
  });

  test('asks a silent server over UDP once at each third of the timeout, and no more', async () => {
    handler = () => ({ silent: true });
    // with 3 s the copies are 1 s apart: a busy test machine's timer lag does not change the count
    await expect(prober.query({ name: 'slow.shop.svc.cluster.local', type: 'A' }, at('udp'))).rejects.toThrow(`no response within 3000 ms (asked ${UDP_SENDS} times)`);
    expect(server.seen).toEqual(Array.from({ length: UDP_SENDS }, () => 'udp A slow.shop.svc.cluster.local'));
  });

  test('asks again over UDP when a question gets no answer, and takes the answer to the copy', async () => {
    let arrivals = 0;
    handler = () => (++arrivals === 1 ? { silent: true } : { answers: [a('web.shop.svc.cluster.local', '10.96.0.20')] });
    const answer = await prober.query({ name: 'web.shop.svc.cluster.local', type: 'A' }, at('udp'));
    expect(answer.answers).toEqual([{ name: 'web.shop.svc.cluster.local', type: 'A', data: '10.96.0.20' }]);
    expect(server.seen).toEqual(['udp A web.shop.svc.cluster.local', 'udp A web.shop.svc.cluster.local']);
  });

  test('rejects an rcode outside the model (FORMERR) instead of guessing', async () => {
    handler = () => ({ rcode: FORMERR });
    await expect(prober.query({ name: 'x.cluster.local', type: 'A' }, at('tcp'))).rejects.toThrow(
      `DNS A x.cluster.local to 127.0.0.1:${server.port}/tcp: unexpected rcode FORMERR`,
    );
  });

  test('names the server when the TCP connection is refused', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(prober.query({ name: 'x.cluster.local', type: 'A' }, { host: '127.0.0.1', port, transport: 'tcp' })).rejects.toThrow(
      new RegExp(`^DNS A x\\.cluster\\.local to 127\\.0\\.0\\.1:${port}/tcp: .*ECONNREFUSED`),
    );
  });
});

describe('DNS prober pacing', () => {
  function fakeClock(): Clock & { sleeps: number[] } {
    let now = 1000;
    const sleeps: number[] = [];
    return {
      sleeps,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    };
  }

  test('spaces queries evenly at the configured rate', async () => {
    const clock = fakeClock();
    const pace = createRateLimiter(50, clock);
    for (let i = 0; i < 4; i++) await pace();
    expect(clock.sleeps).toEqual([20, 20, 20]);
  });

  test('does not wait when queries are already slower than the rate', async () => {
    const clock = fakeClock();
    const pace = createRateLimiter(50, clock);
    await pace();
    await clock.sleep(25);
    await pace();
    expect(clock.sleeps).toEqual([25]);
  });

  test('rejects a rate that is not positive', () => {
    expect(() => createRateLimiter(0, fakeClock())).toThrow('maxQueriesPerSecond must be > 0, got 0');
  });
});
