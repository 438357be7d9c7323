// The S3 API for a benchmark: the Swift test server (test/support/s3-test-server.sh) started in
// the bench's own directory, unless AWS_ENDPOINT_URL_S3 already names one.
import { execFileSync } from "node:child_process";
import path from "node:path";

export function startBenchS3(dir: string): { env: NodeJS.ProcessEnv; stop: () => void } {
  if (process.env.AWS_ENDPOINT_URL_S3) return { env: process.env, stop: () => undefined };
  const script = path.resolve("test/support/s3-test-server.sh");
  const serverEnv = { ...process.env, S3_TEST_DIR: path.join(dir, "s3"), S3_TEST_PORT: String(30_000 + Math.floor(Math.random() * 20_000)) };
  const out = execFileSync("bash", [script, "start"], { env: serverEnv, encoding: "utf8" });
  const env = { ...process.env };
  for (const m of out.matchAll(/([A-Z0-9_]+)=(\S+)/g)) env[m[1]!] = m[2]!;
  return { env, stop: () => execFileSync("bash", [script, "stop"], { env: serverEnv }) };
}
