import type { Command, CliContext } from "./command.js";
import { parseFlags, UsageError } from "./command.js";
import { ConfigError, flagName, KEYS, loadConfig } from "../server/config.js";
import { startServer } from "../server/start-server.js";
import { createHexApi } from "../api/api.js";
import { isWorker, runPrimary, workerHooks } from "../server/cluster.js";
import { Metrics } from "../server/metrics.js";

const HELP = `pkgpub serve: serve a store read-only over HTTP (Julia Pkg server and Hex repositories)

Usage:
  pkgpub serve [--config pkgpub.toml] [--store <store>] [--host 127.0.0.1] [--port 8000] [...]

Serves the store over HTTP, read-only unless --hex-publish opens the Hex HTTP API: the Julia Pkg server protocol (/registries,
/registries.eager and /registries.conservative, /registry/<uuid>/<hash>, /package/<uuid>/<hash>,
/artifact/<hash>) and Hex repositories
(/repos/<name>/...), with optional fallthrough to an upstream Pkg server, Hex mirrors, access
tokens, /health, /metrics, and browse pages: / (client setup, search with /?q=) and one page per
package under /browse/. Prints the URL it listens on, then one JSON
log line per request. Stops on SIGTERM/SIGINT after finishing the requests in flight.

Workers (--workers 4, or auto for one per core; default 1): that many server processes share
the port; /metrics sums them all, their log lines come out as one stream, a worker that dies
is replaced, and SIGTERM lets every one finish its requests in flight.

Hex HTTP API (off by default): with [[hex_publish]] (--hex-publish repo=acme,private_key=…),
\`mix hex.publish\`, \`rebar3 hex publish\`, retire, revert and docs work against
<url>/api/repos/acme for a [[token]] with publish = ["acme"] (replace = ["acme"] to allow
--replace). Docs are shown at /docs/<repo>/<name>/<version>/. Writes go through the same
checks and write order as \`pkgpub hex publish\`.

Every setting can come from the config file, an environment variable or a flag (flags win,
then the environment, then the file). See pkgpub.example.toml and docs/configuration.md.

Options:
  --config <file>
      a TOML config file; also PKGPUB_CONFIG
${KEYS.map((k) => `  ${k.flag} <value>\n      ${k.help}; also ${k.env}`).join("\n")}
`;

const command: Command = {
  path: ["serve"],
  summary: "serve a store read-only over HTTP (Julia Pkg server and Hex repositories)",
  help: HELP,
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const options: Record<string, { type: "string"; multiple?: boolean }> = { config: { type: "string" } };
    for (const k of KEYS) {
      options[flagName(k)] = k.toml === "hex_mirror" || k.toml === "token" || k.toml === "hex_publish" ? { type: "string", multiple: true } : { type: "string" };
    }
    const { values } = parseFlags(argv, options);
    let config;
    try {
      config = loadConfig(values as Record<string, string | string[] | undefined>, ctx.env, ctx.cwd);
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message);
      throw err;
    }
    if (config.workers > 1 && !isWorker()) {
      return runPrimary({
        workers: config.workers,
        args: ["serve", ...argv],
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        ...(ctx.stopSignal ? { stopSignal: ctx.stopSignal } : {}),
        onReady: (url, description) => {
          ctx.stdout.write(`pkgpub serve: ${description} on ${url} (${config.workers} workers)\n`);
          ctx.stdout.write(`  JULIA_PKG_SERVER=${url}\n`);
          for (const h of config.hexPublish) ctx.stdout.write(`  Hex API for ${h.repo}: ${url}/api/repos/${h.repo}\n`);
        },
      });
    }
    const metrics = new Metrics();
    const worker = isWorker() ? workerHooks(metrics) : undefined;
    const running = await startServer({
      metrics,
      ...(worker ? { renderMetrics: worker.renderMetrics } : {}),
      store: config.store,
      host: config.host,
      port: config.port,
      env: ctx.env,
      log: ctx.stdout,
      logLevel: config.logLevel,
      maxConnections: config.maxConnections,
      // Each worker holds its share: the setting bounds the server's memory, not each process's.
      memoryCacheBytes: Math.floor(config.memoryCache / (worker ? config.workers : 1)),
      julia: config.julia,
      hexMirrors: config.hexMirrors,
      cache: config.cache,
      upstream: config.upstream,
      tokens: config.tokens,
      publishRepos: config.hexPublish.map((h) => h.repo),
      ...(config.hexPublish.length > 0
        ? {
            door: (store, log) =>
              createHexApi({
                store,
                repos: config.hexPublish,
                tokens: config.tokens.map((t) => ({ name: t.name, secret: t.token, scopes: t.scopes, publish: t.publish ?? [], replace: t.replace ?? [] })),
                log: (line) => log.info({ api: true }, line),
              }),
          }
        : {}),
    }).catch((err: unknown) => {
      // A worker that cannot start lets go of the primary, so that it exits and is seen failing.
      worker?.leave();
      throw err;
    });
    if (worker) {
      // The primary prints the banner once for all; it stops every worker itself.
      worker.ready(running.url, running.store.description);
      await new Promise<void>((resolve) => (worker.stopped.aborted ? resolve() : worker.stopped.addEventListener("abort", () => resolve(), { once: true })));
      await running.close();
      worker.leave();
      return 0;
    }
    ctx.stdout.write(`pkgpub serve: ${running.store.description} on ${running.url}\n`);
    ctx.stdout.write(`  JULIA_PKG_SERVER=${running.url}\n`);
    for (const h of config.hexPublish) ctx.stdout.write(`  Hex API for ${h.repo}: ${running.url}/api/repos/${h.repo}\n`);
    await waitForStop(ctx);
    await running.close();
    return 0;
  },
};
export default command;

function waitForStop(ctx: CliContext): Promise<void> {
  return new Promise((resolve) => {
    if (ctx.stopSignal) {
      if (ctx.stopSignal.aborted) resolve();
      else ctx.stopSignal.addEventListener("abort", () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
