// Webhook deliveries as GitHub sends them: JSON body, event and delivery headers, HMAC-SHA256.

import { createHmac, randomUUID } from "node:crypto";

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export async function deliver(
  url: string,
  event: string,
  payload: unknown,
  options: { secret?: string; signature?: string | null; id?: string } = {},
): Promise<{ status: number; body: string; id: string }> {
  const body = JSON.stringify(payload);
  const id = options.id ?? randomUUID();
  const headers: Record<string, string> = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id };
  const signature = options.signature === undefined ? sign(options.secret ?? "", body) : options.signature;
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  const res = await fetch(url, { method: "POST", headers, body });
  return { status: res.status, body: await res.text(), id };
}

/** A push payload with the fields the App reads. */
export function pushPayload(args: { owner: string; repo: string; ref: string; after: string; commit?: string; cloneUrl: string; installation?: number; defaultBranch?: string; deleted?: boolean }) {
  return {
    ref: args.ref,
    before: "0".repeat(40),
    after: args.after,
    created: true,
    deleted: args.deleted ?? false,
    forced: false,
    compare: "",
    commits: [],
    head_commit: { id: args.commit ?? args.after },
    pusher: { name: "someone" },
    repository: {
      id: 1,
      name: args.repo,
      full_name: `${args.owner}/${args.repo}`,
      owner: { login: args.owner, name: args.owner },
      clone_url: args.cloneUrl,
      default_branch: args.defaultBranch ?? "main",
      private: true,
    },
    sender: { login: "someone", type: "User" },
    installation: { id: args.installation ?? 42 },
  };
}
