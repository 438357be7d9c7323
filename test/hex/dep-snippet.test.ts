import { describe, expect, it } from "vitest";
import { mixDep, mixRequirement, rebarDep, suggestedVersion } from "../../src/hex/dep-snippet.js";

describe("dependency lines for a release", () => {
  it("uses the requirement hex.pm prints: patch-level below 1.0, minor-level above, exact for pre-releases", () => {
    expect(mixRequirement("0.1.0")).toBe("~> 0.1.0");
    expect(mixRequirement("1.2.3")).toBe("~> 1.2");
    expect(mixRequirement("2.0.0-rc.1+build.5")).toBe("~> 2.0.0-rc.1");
    expect(mixDep("alpha", "1.0.0", "acme")).toBe('{:alpha, "~> 1.0", repo: "acme"}');
    expect(mixDep("jason", "1.4.1", "hexpm")).toBe('{:jason, "~> 1.4"}');
    expect(rebarDep("alpha", "2.0.0-rc.1+x")).toBe('{alpha, "2.0.0-rc.1"}');
  });

  it("suggests the newest release, skipping pre-releases when there is a release", () => {
    expect(suggestedVersion(["1.0.0", "2.0.0-rc.1", "1.10.0", "1.9.0"])).toBe("1.10.0");
    expect(suggestedVersion(["2.0.0-rc.1", "2.0.0-rc.2"])).toBe("2.0.0-rc.2");
    expect(suggestedVersion([])).toBeUndefined();
  });
});
