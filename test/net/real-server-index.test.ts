import { RealServerIndex } from '../../src/net/real-server-index.ts';

/** The plain answer: the last item with this address and port. */
function naiveLastIndexOf(items: { address: string; port: number }[], address: string, port: number): number {
  for (let i = items.length - 1; i >= 0; i--) if (items[i]!.address === address && items[i]!.port === port) return i;
  return -1;
}

describe('RealServerIndex finds real servers like a scan does, short lists and indexed long ones', () => {
  // Deterministic pseudo-random addresses with repeats, so duplicates and shared addresses occur.
  let seed = 7;
  const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const item = () => ({ address: `10.244.${next(3)}.${next(20)}`, port: [53, 80, 8080][next(3)]! });

  test.each([5, 32, 33, 200])('%i real servers, built at once and by push()', (count) => {
    const items = Array.from({ length: count }, item);
    const built = new RealServerIndex(items.slice());
    const pushed = new RealServerIndex<{ address: string; port: number }>();
    for (const it of items) pushed.push(it);
    for (let probe = 0; probe < 300; probe++) {
      const { address, port } = item();
      const want = naiveLastIndexOf(items, address, port);
      expect(built.lastIndexOf(address, port)).toBe(want);
      expect(pushed.lastIndexOf(address, port)).toBe(want);
    }
  });
});
