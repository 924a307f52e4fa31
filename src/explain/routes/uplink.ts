// How an explanation names the uplink, saying where its name came from.
import type { UplinkWhy } from '../../model/types.ts';

export function uplinkWords(iface: string, uplink: UplinkWhy | undefined): string {
  const holding = `the interface holding this node's address ${uplink?.address ?? ''}`.trimEnd();
  switch (uplink?.from) {
    case 'ip-addr':
      return `${iface}, ${holding} (observed with ip -o addr)`;
    case 'calico-interfaces':
      return `${iface}, ${holding} (named in Calico's projectcalico.org/Interfaces annotation)`;
    case 'connected-route':
      return `${iface}, ${holding} (its connected route in this table)`;
    default:
      return `${holding} (its name was not observed, so Iface is not checked)`;
  }
}
