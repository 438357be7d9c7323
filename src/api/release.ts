/**
 * Releases: publish (POST packages/:name/releases), show, revert (DELETE) and retire/unretire.
 * Each write goes through src/publish exactly as `pkgpub hex publish --tarball` and
 * `pkgpub hex retire` do; this file only maps the HTTP request onto those calls and their
 * refusals onto the statuses and fields the Hex clients print.
 */
import { decodeEtf, EtfError, isEtfMap, type EtfMap, type EtfValue } from "../hex/etf.js";
import { RETIREMENT_REASONS, type Release, type RetirementReason } from "../hex/messages.js";
import { MAX_TARBALL_BYTES, TarballError, type HexTarball } from "../hex/tarball.js";
import { HexInvalidError, HexNotFoundError, ReleaseExistsError } from "../publish/hex-errors.js";
import { publishHex, retireHex } from "../publish/hex-publish.js";
import { revertHex } from "../publish/hex-revert.js";
import { readBody } from "./body.js";
import { apiUrl, readTarball, repositoryOf, type Call } from "./context.js";
import { ApiError, hexWarning, sendEmpty, sendTerm } from "./respond.js";

const MAX_RETIRE_BODY = 64 * 1024;
const MAX_RETIRE_MESSAGE = 140;

export async function publishRelease(call: Call, name: string | undefined): Promise<number> {
  const { repo } = call.repo;
  const caller = call.ctx.auth.requireWrite(call.req, repo);
  call.state.tokenName = caller.name;
  const askReplace = call.query.get("replace") === "true";
  const mayReplace = caller.replace.has(repo);
  const bytes = await readBody(call.req, call.res, { maxBytes: MAX_TARBALL_BYTES, field: "tar" });
  let result;
  try {
    result = await call.ctx.writes.run(repo, () => publishHex({
      store: call.ctx.store,
      repo,
      privateKey: call.repo.privateKey,
      input: { bytes, origin: "tarball" },
      replace: askReplace && mayReplace,
      ...(name !== undefined ? { expectName: name } : {}),
      log: call.ctx.log,
    }));
  } catch (err) {
    if (err instanceof ReleaseExistsError) {
      if (askReplace && !mayReplace) throw new ApiError(403, `key ${caller.name} may not replace releases in repository ${repo} (the release is published with sha256 ${err.existingChecksum}; replacing needs replace = ["${repo}"] on the token)`);
      throw new ApiError(422, "Validation error(s)", { inserted_at: `must include the --replace flag to update an existing release (it is published with sha256 ${err.existingChecksum})` });
    }
    throw refusal(err);
  }
  const pkg = await repositoryOf(call).readPackage(result.name);
  const release = pkg?.pkg.releases.find((r) => r.version === result.version);
  const body = release ? await releaseMap(call, result.name, release) : { version: result.version, checksum: result.outerChecksum, url: apiUrl(call, "packages", result.name, "releases", result.version) };
  const headers: Record<string, string> = { Location: apiUrl(call, "packages", result.name, "releases", result.version) };
  if (result.replacedChecksum) {
    Object.assign(headers, hexWarning(`${result.name} ${result.version} replaced: the release published with sha256 ${result.replacedChecksum} is gone; every mix.lock or rebar.lock naming that checksum now fails to fetch`));
    call.ctx.log(`${result.name} ${result.version} in ${repo} replaced by ${caller.name}: sha256 ${result.replacedChecksum} -> ${result.outerChecksum}`);
  }
  const status = result.tarball === "created" ? 201 : 200;
  sendTerm(call.res, status, body as EtfMap, headers);
  return status;
}

export async function showRelease(call: Call, name: string, version: string): Promise<number> {
  call.state.tokenName = call.ctx.auth.requireRead(call.req, call.repo.repo)?.name;
  const pkg = await repositoryOf(call).readPackage(name);
  const release = pkg?.pkg.releases.find((r) => r.version === version);
  if (!release) throw new ApiError(404, "Page not found");
  sendTerm(call.res, 200, await releaseMap(call, name, release));
  return 200;
}

export async function revertRelease(call: Call, name: string, version: string): Promise<number> {
  const caller = call.ctx.auth.requireWrite(call.req, call.repo.repo);
  call.state.tokenName = caller.name;
  let result;
  try {
    result = await call.ctx.writes.run(call.repo.repo, () => revertHex({ store: call.ctx.store, repo: call.repo.repo, privateKey: call.repo.privateKey, name, version, log: call.ctx.log }));
  } catch (err) {
    throw refusal(err);
  }
  call.ctx.log(`${name} ${version} in ${call.repo.repo} reverted by ${caller.name} (sha256 ${result.outerChecksum})`);
  sendEmpty(call.res, 204, hexWarning(`${name} ${version} reverted: the release published with sha256 ${result.outerChecksum} is gone`));
  return 204;
}

/** POST …/retire with {reason, message}, or DELETE …/retire (retire = false). */
export async function retireRelease(call: Call, name: string, version: string, retire: boolean): Promise<number> {
  const caller = call.ctx.auth.requireWrite(call.req, call.repo.repo);
  call.state.tokenName = caller.name;
  let retirement: { reason: RetirementReason; message?: string } | undefined;
  if (retire) {
    const bytes = await readBody(call.req, call.res, { maxBytes: MAX_RETIRE_BODY, field: "retirement" });
    let term: EtfValue;
    try {
      term = decodeEtf(bytes, { maxDepth: 4, maxElements: 64 });
    } catch (err) {
      throw new ApiError(400, `Bad request: the body is not an Erlang term (${err instanceof EtfError ? err.message : "unreadable"})`);
    }
    if (!isEtfMap(term)) throw new ApiError(422, "Validation error(s)", { retirement: "must be a map with reason and message" });
    const { reason, message } = term;
    if (typeof reason !== "string" || !(RETIREMENT_REASONS as readonly string[]).includes(reason)) {
      throw new ApiError(422, "Validation error(s)", { retirement: { reason: `must be one of ${RETIREMENT_REASONS.join(", ")}` } });
    }
    if (message !== undefined && message !== null && (typeof message !== "string" || [...message].length > MAX_RETIRE_MESSAGE)) {
      throw new ApiError(422, "Validation error(s)", { retirement: { message: `must be a string of at most ${MAX_RETIRE_MESSAGE} characters` } });
    }
    retirement = { reason: reason as RetirementReason, ...(typeof message === "string" && message !== "" ? { message } : {}) };
  }
  try {
    await call.ctx.writes.run(call.repo.repo, () => retireHex({ store: call.ctx.store, repo: call.repo.repo, privateKey: call.repo.privateKey, name, version, retirement, log: call.ctx.log }));
  } catch (err) {
    throw refusal(err);
  }
  sendEmpty(call.res, 204);
  return 204;
}

/** The publish layer's refusals as API errors; anything else stays an internal error. */
export function refusal(err: unknown): unknown {
  if (err instanceof HexNotFoundError) return new ApiError(404, err.message);
  if (err instanceof TarballError) return new ApiError(422, "Validation error(s)", { [err.field]: err.message });
  if (err instanceof HexInvalidError) return new ApiError(422, "Validation error(s)", { [err.field]: err.message });
  return err;
}

/** hex.pm's release map, with what mix reads: configs["mix.exs"] and retirement (nil when not retired). */
export async function releaseMap(call: Call, name: string, release: Release, tarball?: HexTarball | null): Promise<EtfMap> {
  const meta = (tarball === undefined ? await readTarball(call, name, release.version) : tarball)?.metadata;
  const docs = await call.ctx.store.head(`repos/${call.repo.repo}/docs/${name}-${release.version}.tar.gz`);
  const requirements: EtfMap = {};
  for (const d of release.dependencies) requirements[d.package] = { requirement: d.requirement, optional: d.optional ?? false, app: d.app ?? d.package };
  return {
    version: release.version,
    checksum: Buffer.from(release.outerChecksum).toString("hex"),
    has_docs: docs !== null,
    retirement: release.retired ? { reason: release.retired.reason, message: release.retired.message ?? "" } : null,
    package_url: apiUrl(call, "packages", name),
    url: apiUrl(call, "packages", name, "releases", release.version),
    html_url: null,
    docs_html_url: docs ? `${call.base}/docs/${call.repo.repo}/${name}/${release.version}/` : null,
    requirements,
    configs: configsOf(name, release.version),
    meta: meta ? { app: meta.app, build_tools: meta.buildTools, ...(meta.elixir ? { elixir: meta.elixir } : {}) } : {},
  };
}

/** The dependency lines mix hex.info prints. */
export function configsOf(name: string, version: string): EtfMap {
  const [major, minor] = version.split(/[.+-]/);
  const req = major === "0" ? `~> ${version.split(/[-+]/)[0]}` : `~> ${major}.${minor}`;
  return { "mix.exs": `{:${name}, "${req}"}`, "rebar.config": `{${name}, "${version}"}`, "erlang.mk": `dep_${name} = hex ${version}` };
}
