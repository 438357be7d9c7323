import { generateKeyPairSync } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fingerprint, spkiPem } from "../hex/signing.js";
import { parseFlags, type Command } from "./command.js";

const help = `pkgpub hex keygen: make an RSA-2048 key pair for signing a Hex repository

Usage:
  pkgpub hex keygen [--out <dir>]

Options:
  --out <dir>   where to write the keys (default: the current directory); created if missing
  -h, --help    show this help

Writes <dir>/private_key.pem (PKCS#8, mode 0600: keep it secret, e.g. as a CI secret used with
--private-key env:VAR) and <dir>/public_key.pem (SPKI, what clients are given), refusing to
overwrite either. Prints the fingerprint that \`mix hex.repo add NAME URL --fetch-public-key\`
expects. pkgpub hex publish also stores the public key at repos/<name>/public_key.
`;

const command: Command = {
  path: ["hex", "keygen"],
  summary: "make a signing key pair for a Hex repository",
  help,
  async run(argv, ctx) {
    const { values } = parseFlags(argv, { out: { type: "string" } });
    const dir = path.resolve(ctx.cwd, values.out ?? ".");
    await mkdir(dir, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const privFile = path.join(dir, "private_key.pem");
    const pubFile = path.join(dir, "public_key.pem");
    const write = async (file: string, text: string, mode: number) => {
      try {
        await writeFile(file, text, { flag: "wx", mode });
      } catch (err) {
        if ((err as { code?: string }).code === "EEXIST") throw new Error(`${file} already exists; not overwriting a key (use another --out)`);
        throw new Error(`cannot write ${file}: ${(err as Error).message}`);
      }
    };
    await write(privFile, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), 0o600);
    await write(pubFile, spkiPem(publicKey), 0o644);
    ctx.stdout.write(`private key: ${privFile} (mode 0600; keep it secret)\npublic key:  ${pubFile}\nfingerprint: ${fingerprint(publicKey)}\n`);
    return 0;
  },
};
export default command;
