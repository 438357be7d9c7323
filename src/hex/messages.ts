import protobuf from "protobufjs";

/**
 * The Hex registry messages (hexpm/specifications registry/*.proto, proto2). Fields are declared
 * in field-number order so encodings are byte-identical to hex_core's; decoding skips fields this
 * schema does not know (newer servers add them) and refuses missing required ones.
 */
const schema = {
  nested: {
    Signed: {
      fields: {
        payload: { rule: "required", type: "bytes", id: 1 },
        signature: { type: "bytes", id: 2 },
      },
    },
    Timestamp: {
      fields: {
        seconds: { rule: "required", type: "int64", id: 1 },
        nanos: { rule: "required", type: "int32", id: 2 },
      },
    },
    Names: {
      fields: {
        packages: { rule: "repeated", type: "NamesPackage", id: 1 },
        repository: { rule: "required", type: "string", id: 2 },
      },
    },
    NamesPackage: {
      fields: {
        name: { rule: "required", type: "string", id: 1 },
        updatedAt: { type: "Timestamp", id: 3 },
      },
    },
    Versions: {
      fields: {
        packages: { rule: "repeated", type: "VersionsPackage", id: 1 },
        repository: { rule: "required", type: "string", id: 2 },
      },
    },
    VersionsPackage: {
      fields: {
        name: { rule: "required", type: "string", id: 1 },
        versions: { rule: "repeated", type: "string", id: 2 },
        retired: { rule: "repeated", type: "int32", id: 3, options: { packed: true } },
        withAdvisories: { rule: "repeated", type: "int32", id: 5, options: { packed: true } },
      },
    },
    Package: {
      fields: {
        releases: { rule: "repeated", type: "Release", id: 1 },
        name: { rule: "required", type: "string", id: 2 },
        repository: { rule: "required", type: "string", id: 3 },
      },
    },
    Release: {
      fields: {
        version: { rule: "required", type: "string", id: 1 },
        innerChecksum: { rule: "required", type: "bytes", id: 2 },
        dependencies: { rule: "repeated", type: "Dependency", id: 3 },
        retired: { type: "RetirementStatus", id: 4 },
        outerChecksum: { type: "bytes", id: 5 },
      },
    },
    Dependency: {
      fields: {
        package: { rule: "required", type: "string", id: 1 },
        requirement: { rule: "required", type: "string", id: 2 },
        optional: { type: "bool", id: 3 },
        app: { type: "string", id: 4 },
        repository: { type: "string", id: 5 },
      },
    },
    RetirementStatus: {
      fields: {
        reason: { rule: "required", type: "RetirementReason", id: 1 },
        message: { type: "string", id: 2 },
      },
    },
    RetirementReason: {
      values: { RETIRED_OTHER: 0, RETIRED_INVALID: 1, RETIRED_SECURITY: 2, RETIRED_DEPRECATED: 3, RETIRED_RENAMED: 4 },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
root.resolveAll();
const T = {
  Signed: root.lookupType("Signed"),
  Names: root.lookupType("Names"),
  Versions: root.lookupType("Versions"),
  Package: root.lookupType("Package"),
};

export const RETIREMENT_REASONS = ["other", "invalid", "security", "deprecated", "renamed"] as const;
export type RetirementReason = (typeof RETIREMENT_REASONS)[number];

export interface Signed {
  payload: Uint8Array;
  signature?: Uint8Array;
}
export interface Dependency {
  package: string;
  requirement: string;
  optional?: boolean;
  app?: string;
  repository?: string;
}
export interface Retirement {
  reason: RetirementReason;
  message?: string;
}
export interface Release {
  version: string;
  innerChecksum: Uint8Array;
  dependencies: Dependency[];
  retired?: Retirement;
  outerChecksum: Uint8Array;
}
export interface Package {
  name: string;
  repository: string;
  releases: Release[];
}
export interface NamesPackage {
  name: string;
  updatedAt?: { seconds: number; nanos: number };
}
export interface Names {
  repository: string;
  packages: NamesPackage[];
}
export interface VersionsPackage {
  name: string;
  versions: string[];
  retired: number[];
}
export interface Versions {
  repository: string;
  packages: VersionsPackage[];
}

/** A protobuf body that does not decode as the expected message. */
export class MessageDecodeError extends Error {
  override name = "MessageDecodeError";
}

function decode(type: protobuf.Type, bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    const msg = type.decode(bytes);
    return type.toObject(msg, { longs: Number, enums: Number, defaults: false, arrays: true }) as Record<string, unknown>;
  } catch (err) {
    throw new MessageDecodeError(`${what}: not a valid ${type.name} message (${(err as Error).message})`);
  }
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  return new Uint8Array(0);
}

export function encodeSigned(msg: Signed): Uint8Array {
  return T.Signed.encode(T.Signed.fromObject(msg)).finish();
}
export function decodeSigned(bytes: Uint8Array, what = "signed resource"): Signed {
  const o = decode(T.Signed, bytes, what);
  return { payload: toBytes(o.payload), signature: o.signature === undefined ? undefined : toBytes(o.signature) };
}

export function encodePackage(pkg: Package): Uint8Array {
  const obj = {
    releases: pkg.releases.map((r) => ({
      version: r.version,
      innerChecksum: r.innerChecksum,
      dependencies: r.dependencies.map((d) => ({ ...d })),
      retired: r.retired ? { reason: RETIREMENT_REASONS.indexOf(r.retired.reason), message: r.retired.message } : undefined,
      outerChecksum: r.outerChecksum,
    })),
    name: pkg.name,
    repository: pkg.repository,
  };
  return T.Package.encode(T.Package.fromObject(obj)).finish();
}

export function decodePackage(bytes: Uint8Array, what = "package"): Package {
  const o = decode(T.Package, bytes, what) as {
    name: string;
    repository: string;
    releases?: Array<Record<string, unknown>>;
  };
  return {
    name: o.name,
    repository: o.repository,
    releases: (o.releases ?? []).map((r) => {
      const retired = r.retired as { reason: number; message?: string } | undefined;
      return {
        version: r.version as string,
        innerChecksum: toBytes(r.innerChecksum),
        outerChecksum: toBytes(r.outerChecksum),
        dependencies: ((r.dependencies as Dependency[] | undefined) ?? []).map((d) => ({ ...d })),
        retired: retired ? { reason: RETIREMENT_REASONS[retired.reason] ?? "other", message: retired.message } : undefined,
      };
    }),
  };
}

export function encodeNames(names: Names): Uint8Array {
  return T.Names.encode(T.Names.fromObject(names)).finish();
}
export function decodeNames(bytes: Uint8Array, what = "names"): Names {
  const o = decode(T.Names, bytes, what) as { repository: string; packages?: NamesPackage[] };
  return { repository: o.repository, packages: (o.packages ?? []).map((p) => ({ ...p })) };
}

export function encodeVersions(v: Versions): Uint8Array {
  return T.Versions.encode(T.Versions.fromObject(v)).finish();
}
export function decodeVersions(bytes: Uint8Array, what = "versions"): Versions {
  const o = decode(T.Versions, bytes, what) as { repository: string; packages?: Array<Partial<VersionsPackage> & { name: string }> };
  return {
    repository: o.repository,
    packages: (o.packages ?? []).map((p) => ({ name: p.name, versions: p.versions ?? [], retired: p.retired ?? [] })),
  };
}
