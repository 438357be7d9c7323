/** SemVer 2.0 as Hex uses it for release versions. */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  pre: string[];
  build: string;
}

export function parseSemVer(v: string): SemVer | null {
  const m = SEMVER.exec(v);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split(".") : [], build: m[5] ?? "" };
}

export function isSemVer(v: string): boolean {
  return SEMVER.test(v);
}

/** Precedence order (build metadata only breaks ties, so the order is total and stable). */
export function compareSemVer(a: string, b: string): number {
  const x = parseSemVer(a);
  const y = parseSemVer(b);
  const mx = SEMVER.exec(a);
  const my = SEMVER.exec(b);
  if (!x || !y || !mx || !my) return a < b ? -1 : a > b ? 1 : 0;
  // Compared as digit strings: Hex allows integers of any size, past what a double holds.
  for (const i of [1, 2, 3]) {
    const c = compareDigits(mx[i]!, my[i]!);
    if (c !== 0) return c;
  }
  if (x.pre.length === 0 && y.pre.length > 0) return 1;
  if (y.pre.length === 0 && x.pre.length > 0) return -1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && compareDigits(p, q) !== 0) return compareDigits(p, q);
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.build < y.build ? -1 : x.build > y.build ? 1 : 0;
}

/** Two non-negative integers without leading zeros, written in decimal: longer is larger. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
