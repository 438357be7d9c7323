/**
 * GET users/me: mix asks it before every publish and needs a map whose "organizations" is a
 * list. The "user" is the token, named as in the configuration.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiContext } from "./context.js";
import { sendTerm } from "./respond.js";

export function showMe(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, state: { tokenName?: string }): number {
  const caller = ctx.auth.require(req);
  state.tokenName = caller.name;
  // An empty list: a non-empty one makes mix (without --yes) ask about hex.pm organisations.
  sendTerm(res, 200, { username: caller.name, organizations: [], email: null });
  return 200;
}
