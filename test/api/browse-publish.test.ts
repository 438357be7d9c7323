import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { tempDir } from "../support/git-repo.js";
import { openTestStores } from "../support/stores.js";
import { newKeyPem } from "../hex/support/fixtures.js";
import { KEY, READER, startApiServe, type ServeHandle } from "./support.js";

const s3Env = inject("s3Env");

/** The browse page shows, per repository with a write door the reader may see, the lines to publish to it. */
describe("browse page: publishing lines", () => {
  const tmp = tempDir("api-browse-");
  const key = newKeyPem();
  let on: ServeHandle;
  let off: ServeHandle;

  beforeAll(async () => {
    const a = await openTestStores("directory", tmp.dir, s3Env);
    on = await startApiServe(tmp.dir, a.spec, a.env, key.privatePem);
    off = await startApiServe(tmp.dir, a.spec, a.env, key.privatePem, { api: false });
  });
  afterAll(async () => {
    await on?.stop();
    await off?.stop();
    tmp.cleanup();
  });

  it("shows the mix.exs hex: line, HEX_API_URL and the rebar3 lines for acme, to a reader of acme; never a token", async () => {
    const page = await (await fetch(`${on.url}/`, { headers: { authorization: READER } })).text();
    expect(page).toContain(`<h2 id="publishing">Publishing (Hex HTTP API)</h2>`);
    expect(page).toContain(`hex: [api_url: "${on.url}/api/repos/acme", api_key: System.get_env("HEX_API_KEY")]`);
    expect(page).toContain(`HEX_API_URL=${on.url}/api HEX_API_KEY=YOUR_TOKEN mix hex.publish --organization acme`);
    expect(page).toContain(`api_url =&gt; &lt;&lt;"${on.url}/api/repos/acme"&gt;&gt;`);
    expect(page).toContain("rebar3 hex publish -r acme");
    // beta has a door too, but this reader may not see it.
    expect(page).not.toContain("/api/repos/beta");
    expect(page).not.toContain(READER);
    expect(page).not.toContain(KEY);
  });

  it("has no publishing section when the API is off", async () => {
    const page = await (await fetch(`${off.url}/`, { headers: { authorization: READER } })).text();
    expect(page).toContain("Hex repositories");
    expect(page).not.toContain("Publishing (Hex HTTP API)");
    expect(page).not.toContain("/api/repos/");
  });
});
