// The bounded HTTP client and its address policy against real loopback servers: what is refused
// (internal addresses, cross-host redirects, oversized and endless bodies, stalls) and what passes.
import { afterEach, describe, expect, it } from "vitest";
import { isInternalAddress, parseHostList } from "../../src/net/address-policy.js";
import { FetchError, httpGet, type FetchPolicy } from "../../src/net/http-client.js";
import { FakeUpstream } from "../server/fake-upstream.js";

const servers: FakeUpstream[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function server(host = "127.0.0.1"): Promise<FakeUpstream> {
  const s = await FakeUpstream.start(host);
  servers.push(s);
  return s;
}
const base: FetchPolicy = { publicOnly: false, maxBytes: 1 << 20, timeoutMs: 2000 };

async function refusedWith(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(FetchError);
  return (err as FetchError).reason;
}

describe("address policy", () => {
  it("classes loopback, private, link-local, unique-local and v4-mapped addresses as internal", () => {
    for (const a of ["127.0.0.1", "127.8.9.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fe80::1%eth0", "fd00:ec2::254", "fc00::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "[::1]", "not-an-ip"]) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ["8.8.8.8", "140.82.112.3", "172.32.0.1", "2606:4700::1111", "2a00:1450:4001::200e"]) expect(isInternalAddress(a), a).toBe(false);
  });

  it("parses host lists", () => {
    expect(parseHostList(" A.example.com, b.example ,,[::1] ")).toEqual(["a.example.com", "b.example", "::1"]);
    expect(parseHostList(undefined)).toEqual([]);
  });

  it("refuses internal addresses by IP literal and after DNS, before any request reaches the server", async () => {
    const s = await server();
    s.bytes("/x", Buffer.from("secret"));
    const policy = { ...base, publicOnly: true };
    expect(await refusedWith(httpGet(`${s.url}/x`, policy))).toBe("refused-address");
    expect(await refusedWith(httpGet(s.url.replace("127.0.0.1", "localhost") + "/x", policy))).toBe("refused-address");
    expect(s.requests).toEqual([]);
    // Named hosts are allowed whatever they resolve to.
    const ok = await httpGet(s.url.replace("127.0.0.1", "localhost") + "/x", { ...policy, allowHosts: ["localhost"] });
    expect(ok.status).toBe(200);
    ok.body.destroy();
  });
});

describe("redirects", () => {
  it("follows same-host redirects, refuses another host unless listed, and checks the new host's address", async () => {
    const a = await server();
    const target = await server();
    target.bytes("/meta", Buffer.from("internal"));
    const other = target.url.replace("127.0.0.1", "localhost");
    a.routes.set("/same", (_req, res) => void res.writeHead(302, { Location: "/final" }).end());
    a.bytes("/final", Buffer.from("final"));
    a.routes.set("/away", (_req, res) => void res.writeHead(302, { Location: `${other}/meta` }).end());

    const same = await httpGet(`${a.url}/same`, base);
    expect(same.status).toBe(200);
    same.body.destroy();

    expect(await refusedWith(httpGet(`${a.url}/away`, base))).toBe("refused-redirect");
    expect(target.requests).toEqual([]);
    // Listed as a redirect host but internal: the address check still refuses it.
    expect(await refusedWith(httpGet(`${a.url}/away`, { ...base, publicOnly: true, allowHosts: ["127.0.0.1"], redirectHosts: ["localhost"] }))).toBe("refused-address");
    expect(target.requests).toEqual([]);
    const listed = await httpGet(`${a.url}/away`, { ...base, redirectHosts: ["localhost"] });
    expect(listed.status).toBe(200);
    listed.body.destroy();
  });

  it("refuses a host that is not a configured upstream", async () => {
    const a = await server();
    expect(await refusedWith(httpGet(`${a.url}/x`, { ...base, onlyHosts: ["pkg.julialang.org"] }))).toBe("refused-host");
    expect(a.requests).toEqual([]);
  });
});

describe("bounds", () => {
  it("refuses a Content-Length over the cap before reading", async () => {
    const a = await server();
    a.bytes("/big", Buffer.alloc(4096));
    expect(await refusedWith(httpGet(`${a.url}/big`, { ...base, maxBytes: 1000 }))).toBe("too-large");
  });

  it("stops an endless chunked body at the cap and closes the connection", async () => {
    const a = await server();
    let sent = 0;
    let closed!: () => void;
    const gone = new Promise<void>((r) => (closed = r));
    a.routes.set("/endless", (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once("drain", pump);
      };
      res.on("close", () => closed());
      pump();
    });
    const res = await httpGet(`${a.url}/endless`, { ...base, maxBytes: 256 * 1024 });
    let got = 0;
    const err = await (async () => {
      for await (const c of res.body as AsyncIterable<Buffer>) got += c.length;
    })().then(() => null, (e: unknown) => e);
    expect((err as FetchError).reason).toBe("too-large");
    expect(got).toBeLessThanOrEqual(256 * 1024);
    await gone;
    // What the server managed to write is bounded by socket buffers, not by its will.
    expect(sent).toBeLessThan(16 * 2 ** 20);
  });

  it("fails a body that stalls", async () => {
    const a = await server();
    a.routes.set("/stall", (_req, res) => {
      res.writeHead(200, { "Content-Length": "100" });
      res.write("x");
    });
    const res = await httpGet(`${a.url}/stall`, { ...base, timeoutMs: 300 });
    const err = await (async () => {
      for await (const _ of res.body) void _;
    })().then(() => null, (e: unknown) => e);
    expect((err as FetchError).reason).toBe("timeout");
  });
});
