import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { ByteReader } from "../julia/byte-reader.js";
import { gitEnv } from "./run-git.js";

/**
 * One long-lived `git cat-file --batch` per repository: objects are requested one at a time and
 * their bytes streamed through, so a 200 MB blob never sits in memory.
 */
export class CatFile {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reader: ByteReader;
  private queue: Promise<unknown> = Promise.resolve();
  private stderr = "";

  constructor(gitDir: string, env?: NodeJS.ProcessEnv) {
    this.child = spawn("git", ["--git-dir", gitDir, "cat-file", "--batch"], { env: gitEnv(env) });
    this.child.stderr.on("data", (c: Buffer) => {
      this.stderr += c.toString("utf8");
    });
    this.child.stdin.on("error", () => undefined);
    this.reader = new ByteReader(this.child.stdout);
  }

  /**
   * Streams one object's content to `consume`. Calls are serialised: the next object is only
   * requested after the previous one's bytes were consumed.
   */
  stream<T>(hash: string, consume: (info: { type: string; size: number }, body: AsyncIterable<Uint8Array>) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.child.stdin.write(`${hash}\n`);
      const line = await this.readLine();
      const [, type, sizeText] = line.split(" ");
      if (type === undefined || sizeText === undefined || line.endsWith(" missing")) {
        throw new Error(`git object ${hash} is missing${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
      }
      const size = Number(sizeText);
      let consumed = 0;
      const reader = this.reader;
      const body = (async function* () {
        for await (const c of reader.chunks(size - consumed)) {
          consumed += c.length;
          yield c;
        }
      })();
      try {
        return await consume({ type, size }, body);
      } finally {
        if (consumed < size) await this.reader.skip(size - consumed);
        await this.reader.skip(1); // the newline after the content
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async read(hash: string, expectType?: string): Promise<Buffer> {
    return this.stream(hash, async (info, body) => {
      if (expectType && info.type !== expectType) throw new Error(`git object ${hash} is a ${info.type}, not a ${expectType}`);
      const parts: Uint8Array[] = [];
      for await (const c of body) parts.push(c);
      return Buffer.concat(parts);
    });
  }

  private async readLine(): Promise<string> {
    const bytes: number[] = [];
    for (;;) {
      const b = await this.reader.read(1);
      if (b.length === 0) throw new Error(`git cat-file ended unexpectedly${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
      if (b[0] === 0x0a) return Buffer.from(bytes).toString("utf8");
      bytes.push(b[0]!);
    }
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}
