// Finding an endpoint by address and port in long lists: the model gathers endpoints with it and the
// comparison matches real servers with it.

export interface AddressAndPort {
  address: string;
  port: number;
}

/** Lists up to this long are scanned: cheaper than indexing, and nearly every Service has fewer endpoints. */
const SCAN_LIMIT = 32;

/**
 * A list of real servers (or anything with an address and a port) that finds its items by address and
 * port without building "address:port" key strings: a node can have 100,000 real servers. Like a Map
 * keyed by address and port built from the list, a key stands for the last item that has it.
 */
export class RealServerIndex<T extends AddressAndPort> {
  /** the list itself, not a copy: push() appends to it */
  readonly items: T[];
  /** once the list is long: the last index of each address, and for each index the previous one with its address */
  private lastOfAddress: Map<string, number> | null = null;
  private previousOfAddress: number[] = [];

  constructor(items: T[] = []) {
    this.items = items;
    if (items.length > SCAN_LIMIT) this.buildIndex();
  }

  push(item: T): void {
    this.items.push(item);
    if (this.lastOfAddress) this.link(this.items.length - 1);
    else if (this.items.length > SCAN_LIMIT) this.buildIndex();
  }

  /** The index of the last item with this address and port; -1 when there is none. */
  lastIndexOf(address: string, port: number): number {
    let index = this.lastOfAddress ? (this.lastOfAddress.get(address) ?? -1) : this.items.length - 1;
    while (index >= 0) {
      const item = this.items[index]!;
      if (item.port === port && item.address === address) return index;
      index = this.lastOfAddress ? this.previousOfAddress[index]! : index - 1;
    }
    return -1;
  }

  private buildIndex(): void {
    this.lastOfAddress = new Map();
    for (let index = 0; index < this.items.length; index++) this.link(index);
  }

  private link(index: number): void {
    const address = this.items[index]!.address;
    this.previousOfAddress[index] = this.lastOfAddress!.get(address) ?? -1;
    this.lastOfAddress!.set(address, index);
  }
}
