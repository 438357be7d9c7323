/**
 * Owners: a package's owners are the tokens that may publish to its repository (`publish` in
 * [[token]]); `mix hex.owner list` shows them. They change in the configuration, not here.
 */
import type { Call } from "./context.js";
import { ApiError, sendTerm } from "./respond.js";
import { repositoryOf } from "./context.js";

export async function listOwners(call: Call, name: string): Promise<number> {
  call.state.tokenName = call.ctx.auth.requireRead(call.req, call.repo.repo)?.name;
  if (!(await repositoryOf(call).readPackage(name))) throw new ApiError(404, "Page not found");
  sendTerm(call.res, 200, call.ctx.auth.publishers(call.repo.repo).map((t) => ({ username: t.name, level: "full" })));
  return 200;
}

export function changeOwner(call: Call): number {
  call.state.tokenName = call.ctx.auth.requireWrite(call.req, call.repo.repo).name;
  throw new ApiError(422, "Validation error(s)", { owner: `owners are the pkgpub tokens with publish = ["${call.repo.repo}"]; change them in the server's configuration` });
}
