// Giving git a GitHub token without putting it on a command line or in a URL.

/** Is `spec` a URL (or scp-like user@host:path) rather than a local path? */
export function isGitUrl(spec: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(spec) || /^[^/\\]+@[^/\\]+:/.test(spec);
}

/** Git config entries passed through the environment, so they never appear in a process list. */
export function gitConfigEnv(entries: Record<string, string>, base: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const pairs = Object.entries(entries);
  const env: NodeJS.ProcessEnv = { ...base, GIT_CONFIG_COUNT: String(pairs.length) };
  pairs.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

/**
 * Environment that makes git send a GitHub installation or workflow token, only to `origin`
 * (https://github.com): package repositories on other hosts never see it.
 */
export function tokenGitEnv(token: string, origin: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  return gitConfigEnv({ [`http.${origin}/.extraHeader`]: `Authorization: Basic ${basic}` }, base);
}
