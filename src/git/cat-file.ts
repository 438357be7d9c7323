import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { ByteReader } from "../bytes/byte-reader.js";
import { gitEnv } from "./run-git.js";

/**
 * One long-lived `git cat-file --batch` per repository: objects are requested one at a time and
 * their bytes streamed through, so a 200 MB blob never sits in memory.
 */
export class CatFile {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reader: ByteReader;
  /** Settles when the object being read has been read to its end: requests go one at a time. */
  private turn: Promise<void> = Promise.resolve();
  private stderr = "";

  constructor(gitDir: string, env?: NodeJS.ProcessEnv) {
    this.child = spawn("git", ["--git-dir", gitDir, "cat-file", "--batch"], { env: gitEnv(env) });
    this.child.stderr.on("data", (c: Buffer) => {
      this.stderr += c.toString("utf8");
    });
    this.child.stdin.on("error", () => undefined);
    this.reader = new ByteReader(this.child.stdout);
  }

  /** An object's bytes as chunks. Reading it to the end (or returning early) lets the next one start. */
  async *chunks(hash: string, expectType?: string): AsyncGenerator<Uint8Array> {
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((r) => (release = r));
    await previous;
    try {
      this.child.stdin.write(`${hash}\n`);
      const line = await this.readLine();
      const [, type, sizeText] = line.split(" ");
      if (type === undefined || sizeText === undefined || line.endsWith(" missing")) {
        throw new Error(`git object ${hash} is missing${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
      }
      const size = Number(sizeText);
      let left = size;
      try {
        if (expectType && type !== expectType) throw new Error(`git object ${hash} is a ${type}, not a ${expectType}`);
        for await (const c of this.reader.chunks(size)) {
          left -= c.length;
          yield c;
        }
      } finally {
        if (left > 0) await this.reader.skip(left);
        await this.reader.skip(1); // the newline after the content
      }
    } finally {
      release();
    }
  }

  async read(hash: string, expectType?: string): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    for await (const c of this.chunks(hash, expectType)) parts.push(c);
    return Buffer.concat(parts);
  }

  private async readLine(): Promise<string> {
    const line = await this.reader.readLine();
    if (line === null) throw new Error(`git cat-file ended unexpectedly${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
    return line;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

/**
 * A `git cat-file --batch` fed a known list of objects up front, read back in that order:
 * no round trip per object, which matters for the thousands of small files of a registry.
 * Bodies still stream, one object at a time.
 */
export class CatFileSequence {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly reader: ByteReader;
  private index = 0;
  private stderr = "";

  constructor(gitDir: string, private readonly hashes: readonly string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn("git", ["--git-dir", gitDir, "cat-file", "--batch"], { env: gitEnv(env) });
    this.child.stderr.on("data", (c: Buffer) => {
      this.stderr += c.toString("utf8");
    });
    this.child.stdin.on("error", () => undefined);
    this.child.stdin.end(hashes.map((h) => `${h}\n`).join(""));
    this.reader = new ByteReader(this.child.stdout);
  }

  /** The next object's bytes; `hash` must be the next one of the list. */
  async *next(hash: string): AsyncGenerator<Uint8Array> {
    const expected = this.hashes[this.index++];
    if (expected !== hash) throw new Error(`cat-file sequence: asked for ${hash}, next is ${expected ?? "nothing"}`);
    const line = await this.reader.readLine();
    if (line === null) throw new Error(`git cat-file ended unexpectedly${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
    const [name, type, sizeText] = line.split(" ");
    if (name !== hash || type === undefined || sizeText === undefined || line.endsWith(" missing")) {
      throw new Error(`git object ${hash} is missing${this.stderr ? `: ${this.stderr.trim()}` : ""}`);
    }
    const size = Number(sizeText);
    let left = size;
    try {
      for await (const c of this.reader.chunks(size)) {
        left -= c.length;
        yield c;
      }
    } finally {
      if (left > 0) await this.reader.skip(left);
      await this.reader.skip(1);
    }
  }

  async read(hash: string): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    for await (const c of this.next(hash)) parts.push(c);
    return Buffer.concat(parts);
  }

  close(): void {
    this.child.kill();
  }
}
