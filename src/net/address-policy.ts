// Which network addresses a fetch from outside may reach: the check made after DNS resolution
// (so a public name pointing at 127.0.0.1, or a redirect to a metadata service, is refused too).
import { BlockList, isIP } from "node:net";

/** Ranges that are not the public internet: loopback, private, link-local, unique-local, ... */
// Two lists: a BlockList checks IPv4 addresses against IPv6 rules as v4-mapped, so one list
// holding ::ffff:0:0/96 would refuse every IPv4 address.
const INTERNAL_V4 = new BlockList();
const INTERNAL_V6 = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) INTERNAL_V4.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["::ffff:0:0", 96], // v4-mapped: would reach any IPv4 address, internal ones included
  ["64:ff9b::", 96], // NAT64, same reason
  ["fc00::", 7], // unique-local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // old site-local
  ["ff00::", 8], // multicast
] as const) INTERNAL_V6.addSubnet(net, bits, "ipv6");

/** True for an address that is not on the public internet (or is not an IP address at all). */
export function isInternalAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(bare);
  if (family === 4) return INTERNAL_V4.check(bare, "ipv4");
  if (family === 6) return INTERNAL_V6.check(bare, "ipv6");
  return true;
}

export interface AddressPolicy {
  /** Refuse internal addresses (see isInternalAddress) unless the host is in allowHosts. */
  publicOnly: boolean;
  /** Host names or IP literals reachable whatever they resolve to (an internal artifact server). */
  allowHosts?: readonly string[];
}

/** Lower-case, without brackets or a trailing dot: the form host lists are compared in. */
export function normalHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
}

export function hostAllowed(policy: AddressPolicy, host: string): boolean {
  const h = normalHost(host);
  return (policy.allowHosts ?? []).some((a) => normalHost(a) === h);
}

/** Null when `host` may be reached at `address`, else the reason (without the address's content). */
export function refusal(policy: AddressPolicy, host: string, address: string): string | null {
  if (!policy.publicOnly || hostAllowed(policy, host)) return null;
  return isInternalAddress(address) ? `${normalHost(host)} resolves to an internal address (${address}); refused (allow it by name in the allowed hosts setting)` : null;
}

/** A comma- or space-separated host list from a setting ("a.example, b.example"). */
export function parseHostList(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).map((h) => normalHost(h.trim())).filter(Boolean);
}
