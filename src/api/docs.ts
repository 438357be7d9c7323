/**
 * Docs: POST packages/:name/releases/:version/docs (`mix hex.publish docs`) and DELETE (revert).
 * The tarball is checked and stored by src/publish/hex-docs.ts; the answer's location is where
 * the server shows it (/docs/<repo>/<name>/<version>/).
 */
import { DocsTarballError, MAX_DOCS_BYTES } from "../hex/docs-tarball.js";
import { publishHexDocs, revertHexDocs } from "../publish/hex-docs.js";
import { readBody } from "./body.js";
import type { Call } from "./context.js";
import { refusal } from "./release.js";
import { ApiError, sendEmpty } from "./respond.js";

export async function publishDocs(call: Call, name: string, version: string): Promise<number> {
  const caller = call.ctx.auth.requireWrite(call.req, call.repo.repo);
  call.state.tokenName = caller.name;
  const bytes = await readBody(call.req, call.res, { maxBytes: MAX_DOCS_BYTES, field: "tar" });
  try {
    await call.ctx.writes.run(call.repo.repo, () => publishHexDocs({ store: call.ctx.store, repo: call.repo.repo, privateKey: call.repo.privateKey, name, version, bytes, log: call.ctx.log }));
  } catch (err) {
    if (err instanceof DocsTarballError) throw new ApiError(422, "Validation error(s)", { tar: err.message });
    throw refusal(err);
  }
  sendEmpty(call.res, 201, { Location: `${call.base}/docs/${call.repo.repo}/${name}/${version}/` });
  return 201;
}

export async function revertDocs(call: Call, name: string, version: string): Promise<number> {
  call.state.tokenName = call.ctx.auth.requireWrite(call.req, call.repo.repo).name;
  try {
    await call.ctx.writes.run(call.repo.repo, () => revertHexDocs({ store: call.ctx.store, repo: call.repo.repo, privateKey: call.repo.privateKey, name, version, log: call.ctx.log }));
  } catch (err) {
    throw refusal(err);
  }
  sendEmpty(call.res, 204);
  return 204;
}
