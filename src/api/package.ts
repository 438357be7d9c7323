/**
 * Packages: GET packages/:name (`mix hex.info NAME`) and GET packages?search= (`mix hex.package
 * search`), read from the signed registry files (checked with the repository's key) and the
 * newest release's metadata.
 */
import type { EtfMap } from "../hex/etf.js";
import { compareSemVer, parseSemVer } from "../hex/semver.js";
import { apiUrl, readTarball, readVersions, repositoryOf, type Call } from "./context.js";
import { configsOf } from "./release.js";
import { ApiError, sendTerm } from "./respond.js";

const MAX_SEARCH_RESULTS = 100;

export async function showPackage(call: Call, name: string): Promise<number> {
  call.state.tokenName = call.ctx.auth.requireRead(call.req, call.repo.repo)?.name;
  const pkg = (await repositoryOf(call).readPackage(name))?.pkg;
  if (!pkg || pkg.releases.length === 0) throw new ApiError(404, "Page not found");
  const newest = [...pkg.releases].sort((a, b) => compareSemVer(b.version, a.version));
  const latest = newest[0]!;
  const stable = newest.find((r) => parseSemVer(r.version)?.pre.length === 0) ?? latest;
  const meta = (await readTarball(call, name, latest.version))?.metadata;
  const retirements: EtfMap = {};
  for (const r of newest) if (r.retired) retirements[r.version] = { reason: r.retired.reason, message: r.retired.message ?? "" };
  const links: EtfMap = {};
  for (const [k, v] of meta?.links ?? []) links[k] = v;
  sendTerm(call.res, 200, {
    name,
    repository: call.repo.repo,
    url: apiUrl(call, "packages", name),
    html_url: null,
    docs_html_url: `${call.base}/docs/${call.repo.repo}/${name}/`,
    latest_version: latest.version,
    latest_stable_version: stable.version,
    releases: newest.map((r) => ({ version: r.version, url: apiUrl(call, "packages", name, "releases", r.version) })),
    retirements,
    configs: configsOf(name, stable.version),
    meta: meta ? { ...(meta.description ? { description: meta.description } : {}), licenses: meta.licenses, links } : {},
    owners: call.ctx.auth.publishers(call.repo.repo).map((t) => ({ username: t.name, level: "full" })),
  });
  return 200;
}

export async function searchPackages(call: Call): Promise<number> {
  call.state.tokenName = call.ctx.auth.requireRead(call.req, call.repo.repo)?.name;
  const q = (call.query.get("search") ?? "").toLowerCase().slice(0, 200);
  const versions = await readVersions(call);
  const hits = (versions?.packages ?? []).filter((p) => p.versions.length > 0 && p.name.includes(q)).slice(0, MAX_SEARCH_RESULTS);
  sendTerm(
    call.res,
    200,
    hits.map((p) => ({
      name: p.name,
      repository: call.repo.repo,
      url: apiUrl(call, "packages", p.name),
      html_url: null,
      meta: {},
      releases: [...p.versions].sort((a, b) => compareSemVer(b, a)).map((version) => ({ version })),
    })),
  );
  return 200;
}
