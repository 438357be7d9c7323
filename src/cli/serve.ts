import type { Command, CliContext } from "./command.js";
import { parseFlags, UsageError } from "./command.js";
import { startServer } from "../server/start-server.js";

const HELP = `pkgpub serve [--store <store>] [--host 127.0.0.1] [--port 8000]

Serves the store read-only over HTTP: the Julia Pkg server protocol (/registries,
/registry/<uuid>/<hash>, /package/<uuid>/<hash>, /artifact/<hash>) and Hex repositories
(/repos/<name>/...). Prints the URL it listens on, then one JSON log line per request.
Stops on SIGTERM/SIGINT after finishing the requests in flight.

  --store <store>   a directory (default ./data), file://… or s3://bucket[/prefix]; also PKGPUB_STORE
  --host <addr>     address to listen on (default 127.0.0.1); also PKGPUB_HOST
  --port <n>        port (default 8000, 0 picks a free one); also PKGPUB_PORT
`;

const command: Command = {
  path: ["serve"],
  summary: "serve a store read-only over HTTP (Julia Pkg server and Hex repositories)",
  help: HELP,
  async run(argv: string[], ctx: CliContext): Promise<number> {
    const { values } = parseFlags(argv, {
      store: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
    });
    const host = values.host ?? ctx.env.PKGPUB_HOST ?? "127.0.0.1";
    const portText = values.port ?? ctx.env.PKGPUB_PORT ?? "8000";
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--port: not a port number: ${JSON.stringify(portText)}`);
    const running = await startServer({
      store: values.store,
      host,
      port: Number(portText),
      env: ctx.env,
      log: ctx.stdout,
    });
    ctx.stdout.write(`pkgpub serve: ${running.store.description} on ${running.url}\n`);
    ctx.stdout.write(`  JULIA_PKG_SERVER=${running.url}\n`);
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
