// Writes the binary inputs of the hostile corpus (tarballs, gzip bombs) under test/hostile/inputs/.
// Run with `node test/hostile/make-corpus.mjs` after changing it; its output is committed, and
// cases.json says what each input must produce. Text inputs are plain files written by hand.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "inputs");
mkdirSync(dir, { recursive: true });
const out = (name, bytes) => writeFileSync(path.join(dir, name), bytes);

/** One raw ustar header + data; names, types and link targets exactly as given, however hostile. */
function member({ name, type = "0", data = Buffer.alloc(0), linkname = "", mode = 0o644, size }) {
  const h = Buffer.alloc(512);
  const put = (s, off, len) => Buffer.from(s, "utf8").copy(h, off, 0, len);
  put(name, 0, 100);
  put(`${mode.toString(8).padStart(7, "0")}\0`, 100, 8);
  put("0000000\0", 108, 8);
  put("0000000\0", 116, 8);
  put(`${(size ?? data.length).toString(8).padStart(11, "0")}\0`, 124, 12);
  put("00000000000\0", 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put(linkname, 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad]);
}
const tar = (...members) => Buffer.concat([...members, Buffer.alloc(1024)]);
const file = (name, text = "x\n") => member({ name, data: Buffer.from(text) });
/** A pax extended header record set. */
function pax(records) {
  const body = Buffer.from(Object.entries(records).map(([k, v]) => {
    const rec = ` ${k}=${v}\n`;
    let len = rec.length + 1;
    while (`${len}${rec}`.length !== len) len++;
    return `${len}${rec}`;
  }).join(""));
  return member({ name: "PaxHeaders/x", type: "x", data: body });
}

// Julia artifacts (gzip'd tars).
const art = (name, t) => out(name, gzipSync(t));
art("artifact-member-dotdot.tar.gz", tar(file("ok.txt"), file("../escape.txt")));
art("artifact-member-absolute.tar.gz", tar(file("/etc/pkgpub-hostile.txt")));
art("artifact-symlink-escapes.tar.gz", tar(member({ name: "lib/link", type: "2", linkname: "../../../etc/passwd" })));
art("artifact-symlink-absolute.tar.gz", tar(member({ name: "link", type: "2", linkname: "/etc/passwd" })));
art("artifact-through-symlink.tar.gz", tar(member({ name: "dir", type: "2", linkname: "." }), file("dir/file.txt")));
art("artifact-hardlink-missing.tar.gz", tar(member({ name: "hard", type: "1", linkname: "../../etc/passwd" })));
art("artifact-device-node.tar.gz", tar(member({ name: "dev", type: "3" })));
art("artifact-pax-path-dotdot.tar.gz", tar(pax({ path: "a/../../escape.txt" }), file("innocent.txt")));
art("artifact-pax-huge.tar.gz", tar(pax({ path: "p".repeat(200_000) }), file("x.txt")));
art("artifact-many-members.tar.gz", tar(...Array.from({ length: 3000 }, (_, i) => file(`m/${i}`, ""))));
art("artifact-size-lie.tar.gz", Buffer.concat([member({ name: "big.bin", size: 2 ** 33 - 1 }).subarray(0, 512), Buffer.alloc(4096)]));
// A gzip bomb: 64 MiB of zeros in one member, about 64 KiB compressed.
out("artifact-gzip-bomb.tar.gz", gzipSync(tar(member({ name: "zeros.bin", data: Buffer.alloc(64 * 2 ** 20) })), { level: 9 }));
out("artifact-truncated.tar.gz", gzipSync(tar(file("a.txt", "a".repeat(5000)), file("b.txt"))).subarray(0, 200));
out("artifact-zstd.tar.zst", Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]));
out("artifact-html.tar.gz", Buffer.from("<html><body>404 Not Found</body></html>\n"));

// Hex tarballs (format 3) with a valid CHECKSUM over hostile parts unless the case is the checksum.
const enc = (s) => Buffer.from(s, "utf8");
const metadata = (name, version, extra = "") =>
  `{<<"app">>,<<"${name}">>}.\n{<<"build_tools">>,[<<"rebar3">>]}.\n{<<"description">>,<<"d">>}.\n{<<"files">>,[<<"src/x.erl">>]}.\n{<<"licenses">>,[]}.\n{<<"name">>,<<"${name}">>}.\n{<<"requirements">>,[]}.\n{<<"version">>,<<"${version}">>}.\n${extra}`;
function hexTarball({ meta = metadata("evil", "1.0.0"), contents, version = "3", checksum, outerExtra = [] }) {
  const v = enc(version);
  const m = enc(meta);
  const c = contents ?? gzipSync(tar(file("src/x.erl", "-module(x).\n")));
  const sum = checksum ?? createHash("sha256").update(v).update(m).update(c).digest("hex").toUpperCase();
  return tar(
    member({ name: "VERSION", data: v }),
    member({ name: "CHECKSUM", data: enc(sum) }),
    member({ name: "metadata.config", data: m }),
    member({ name: "contents.tar.gz", data: c }),
    ...outerExtra,
  );
}
out("hex-bad-checksum.tar", hexTarball({ checksum: "0".repeat(64) }));
out("hex-outer-dotdot.tar", hexTarball({ outerExtra: [file("../../evil")] }));
out("hex-version-2.tar", hexTarball({ version: "2" }));
out("hex-name-traversal.tar", hexTarball({ meta: metadata("../../evil", "1.0.0") }));
out("hex-version-traversal.tar", hexTarball({ meta: metadata("evil", "1.0.0/../../../x") }));
out("hex-contents-dotdot.tar", hexTarball({ contents: gzipSync(tar(file("src/../../escape.erl"))) }));
out("hex-contents-absolute.tar", hexTarball({ contents: gzipSync(tar(file("/etc/cron.d/evil"))) }));
out("hex-contents-symlink-escape.tar", hexTarball({ contents: gzipSync(tar(member({ name: "priv/link", type: "2", linkname: "../../../etc/passwd" }))) }));
out("hex-contents-symlink-absolute.tar", hexTarball({ contents: gzipSync(tar(member({ name: "link", type: "2", linkname: "/etc/shadow" }))) }));
// contents.tar.gz that inflates to 160 MiB (over the 128 MiB Hex limit): about 160 KiB.
out("hex-contents-gzip-bomb.tar", hexTarball({ contents: gzipSync(tar(member({ name: "zeros.bin", data: Buffer.alloc(160 * 2 ** 20) })), { level: 9 }) }));
out("hex-contents-not-gzip.tar", hexTarball({ contents: enc("plain text, not gzip") }));
out("hex-truncated.tar", hexTarball({}).subarray(0, 1500));
out("hex-duplicate-entry.tar", hexTarball({ outerExtra: [member({ name: "VERSION", data: enc("3") })] }));
console.log(`wrote the corpus inputs to ${dir}`);
