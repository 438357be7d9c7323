// Starts an HTTP server listening, with the errors an operator meets (a busy port, a port
// below 1024 without rights, a host that is not this machine's) turned into the fix.
import type { Server } from "node:http";

export interface ListenHint {
  /** How the port is chosen, e.g. "--port <n> or PKGPUB_PORT". */
  portSettings: string;
  /** How the address is chosen, e.g. "--host <addr> or PKGPUB_HOST". */
  hostSettings: string;
}

export function listen(server: Server, port: number, host: string, hint: ListenHint): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
      if (err.code === "EADDRINUSE") {
        reject(new Error(`port ${port} is already in use on ${host} (by another pkgpub, or another server): stop it, or pick another port with ${hint.portSettings} (0 picks a free one)`));
      } else if (err.code === "EACCES") {
        reject(new Error(`not allowed to listen on ${where} (ports below 1024 need privileges): pick a port of 1024 or more with ${hint.portSettings}`));
      } else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") {
        reject(new Error(`cannot listen on ${where}: ${host} is not an address of this machine; set ${hint.hostSettings} (127.0.0.1, 0.0.0.0 for every interface)`));
      } else {
        reject(new Error(`cannot listen on ${where}: ${err.message}`));
      }
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** A port from a flag or variable: an integer 0-65535, or a message naming where it came from. */
export function parsePort(value: string, source: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(Number.isInteger(n) && n >= 0 && n <= 65535)) throw new Error(`${source}: ${JSON.stringify(value)} is not a port number (0 to 65535; 0 picks a free one)`);
  return n;
}
