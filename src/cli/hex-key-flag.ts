import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parsePrivateKey } from "../hex/signing.js";
import { UsageError } from "./command.js";

/**
 * `--private-key <pem-file|env:VAR>`. Errors name the file or variable, never the key text.
 */
export async function loadPrivateKey(spec: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Promise<KeyObject> {
  if (spec === undefined || spec === "") throw new UsageError("missing required --private-key <pem-file|env:VAR>");
  if (spec.includes("-----BEGIN") || spec.includes("\n")) {
    throw new UsageError("--private-key takes a PEM file path or env:VAR, not the key text itself");
  }
  if (spec.startsWith("env:")) {
    const name = spec.slice(4);
    const value = env[name];
    if (value === undefined || value.trim() === "") throw new Error(`--private-key env:${name}: the environment variable ${name} is not set`);
    return parsePrivateKey(value, `--private-key env:${name}`);
  }
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, spec), "utf8");
  } catch {
    throw new Error(`--private-key ${spec}: cannot read the file`);
  }
  return parsePrivateKey(text, `--private-key ${spec}`);
}
