/**
 * Which files of a source tree go into a package, as `mix hex.build` and rebar3_hex choose them:
 * root-relative glob patterns (Path.wildcard / filelib:wildcard style: `*`, `?`, `**`, `{a,b}`,
 * `[..]`), a matched directory bringing everything under it.
 */

export const MIX_DEFAULT_FILES = ["lib", "priv", ".formatter.exs", "mix.exs", "README*", "readme*", "LICENSE*", "license*", "CHANGELOG*", "changelog*", "src", "c_src", "Makefile*"];

export const REBAR_DEFAULT_FILES = ["src", "c_src", "include", "rebar.config.script", "priv", "rebar.config", "rebar.lock", "CHANGELOG*", "changelog*", "README*", "readme*", "LICENSE*", "license*", "NOTICE"];

/** rebar3_hex always leaves these out. */
const REBAR_ALWAYS_EXCLUDED = [/~$/, /\.o$/, /\.so$/, /\.swp$/];

export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        // "**/" matches zero or more directories; a trailing "**" anything.
        if (pattern[i + 2] === "/") {
          re += "(?:[^/]+/)*";
          i += 2;
        } else {
          re += ".*";
          i += 1;
        }
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") {
      const close = pattern.indexOf("}", i);
      if (close < 0) re += "\\{";
      else {
        re += `(?:${pattern.slice(i + 1, close).split(",").map((alt) => globToRegExp(alt).source.slice(1, -1)).join("|")})`;
        i = close;
      }
    } else if (c === "[") {
      const close = pattern.indexOf("]", i);
      if (close < 0) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, close).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^$()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** A wildcard does not match names starting with "." unless the pattern's own segment does. */
function hiddenOk(pattern: string, candidate: string): boolean {
  const segs = candidate.split("/");
  const psegs = pattern.split("/");
  return segs.every((s, i) => !s.startsWith(".") || (psegs[i] ?? "").startsWith("."));
}

/** The files (sorted) that the patterns select from `paths` (every file path of the tree). */
export function selectFiles(paths: string[], patterns: string[], options: { rebar?: boolean; exclude?: RegExp[] } = {}): string[] {
  return selectEntries(paths, patterns, options).files;
}

/**
 * The files and the directories the patterns select. Both clients walk a matched directory and
 * list it and every directory under it in metadata.config `files` (the tarball itself holds only
 * the files, git having no empty directories).
 */
export function selectEntries(paths: string[], patterns: string[], options: { rebar?: boolean; exclude?: RegExp[] } = {}): { files: string[]; dirs: string[] } {
  const dirs = new Set<string>();
  for (const p of paths) {
    const segs = p.split("/");
    for (let i = 1; i < segs.length; i++) dirs.add(segs.slice(0, i).join("/"));
  }
  const chosen = new Set<string>();
  const chosenDirs = new Set<string>();
  for (const raw of patterns) {
    const pattern = raw.replace(/^\.\//, "").replace(/\/+$/, "");
    const re = globToRegExp(pattern);
    for (const d of dirs) {
      if (re.test(d) && hiddenOk(pattern, d)) {
        chosenDirs.add(d);
        for (const p of paths) if (p.startsWith(`${d}/`)) chosen.add(p);
        for (const sub of dirs) if (sub.startsWith(`${d}/`)) chosenDirs.add(sub);
      }
    }
    for (const p of paths) if (re.test(p) && hiddenOk(pattern, p)) chosen.add(p);
  }
  const excludes = [...(options.exclude ?? []), ...(options.rebar ? REBAR_ALWAYS_EXCLUDED : [])];
  const keep = (p: string) => !p.split("/").includes(".DS_Store") && !excludes.some((re) => re.test(p));
  return { files: [...chosen].filter(keep).sort(), dirs: [...chosenDirs].filter(keep).sort() };
}

/** mix's build_tools guess from the root files when the package does not state them. */
export function guessBuildTools(paths: string[]): string[] {
  const root = new Set(paths.filter((p) => !p.includes("/")));
  const tools: string[] = [];
  if (root.has("mix.exs")) tools.push("mix");
  if (["rebar", "rebar.config", "rebar.config.script", "rebar.lock"].some((f) => root.has(f))) tools.push("rebar3");
  if (["Makefile", "Makefile.win", "erlang.mk"].some((f) => root.has(f))) tools.push("make");
  return tools.length > 0 ? tools : ["mix"];
}
