// Child process of julia.bench.ts: builds and verifies one tarball, prints its peak RSS.
import { GitRepository } from "../src/git/repository.js";
import { buildTreeTarball } from "../src/publish/julia-tarball.js";
import { PACKAGE_RULES } from "../src/julia/tree-model.js";

const [repoDir, tree, out] = process.argv.slice(2) as [string, string, string];
const repo = await GitRepository.open(repoDir);
await buildTreeTarball(repo, tree, out, undefined, PACKAGE_RULES);
repo.close();
console.log(`${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
