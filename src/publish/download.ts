// Artifact downloads of a Julia publish, through the one bounded HTTP client (src/net): its
// size cap, timeouts, redirect rule and address policy, with per-host credentials on each hop.
import { downloadToFile as boundedDownload, FetchError } from "../net/http-client.js";
import type { HttpAuth } from "../net/http-auth.js";
import { PUBLIC_ONLY, type ArtifactNetwork } from "./artifact-network.js";

export interface DownloadOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Per-host credentials (private artifact servers); each redirect hop gets its own host's. */
  auth?: HttpAuth;
  /** Where downloads may go (default: public addresses only; see artifact-network.ts). */
  network?: ArtifactNetwork;
}

/** Streams a URL into a new file, returning its sha256; every refusal names the URL without secrets. */
export async function downloadToFile(url: string, file: string, options: DownloadOptions): Promise<{ sha256: string; bytes: number }> {
  const network = options.network ?? PUBLIC_ONLY;
  try {
    return await boundedDownload(
      url,
      file,
      {
        maxBytes: options.maxBytes,
        timeoutMs: options.timeoutMs,
        publicOnly: network.publicOnly,
        allowHosts: network.allowHosts,
        redirectHosts: [...network.redirectHosts, ...network.allowHosts],
      },
      { headersFor: (u) => headerFor(options.auth, u) },
    );
  } catch (err) {
    if (err instanceof FetchError) throw new Error(err.message);
    throw err;
  }
}

function headerFor(auth: HttpAuth | undefined, url: URL): Record<string, string> {
  const authorization = auth?.headerFor(url);
  return authorization ? { authorization } : {};
}
