import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import type {} from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

declare module "vitest" {
  export interface ProvidedContext {
    /** AWS_* variables for the S3 test server every S3 test runs against. */
    s3Env: Record<string, string>;
  }
}

/**
 * Builds the CLI bundle (tests spawn bin/pkgpub.mjs as a user would) and starts the real S3 API
 * (Swift + s3api) unless one is already named by AWS_ENDPOINT_URL_S3.
 */
export default function setup(project: TestProject): () => void {
  execFileSync(process.execPath, [path.join(root, "scripts/build.mjs")], { cwd: root, stdio: "inherit" });

  let stop = (): void => undefined;
  let s3Env: Record<string, string>;
  if (process.env.AWS_ENDPOINT_URL_S3) {
    s3Env = pickAws(process.env);
  } else {
    const script = path.join(root, "test/support/s3-test-server.sh");
    const out = execFileSync("bash", [script, "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    s3Env = parseExports(out);
    stop = () => {
      execFileSync("bash", [script, "stop"], { stdio: "inherit" });
    };
  }
  project.provide("s3Env", s3Env);
  return stop;
}

function pickAws(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith("AWS_") && v !== undefined) out[k] = v;
  return out;
}

function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Z0-9_]+)=(\S+)/g)) out[m[1]!] = m[2]!;
  if (!out.AWS_ENDPOINT_URL_S3) throw new Error(`s3-test-server printed no endpoint: ${text}`);
  return out;
}
