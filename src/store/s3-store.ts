import type { Store } from "./store.js";

// Placeholder: the S3 adapter is being built.
export const S3Store = {
  fromUrl(_url: string, _env: NodeJS.ProcessEnv): Store {
    throw new Error("S3 store not built yet");
  },
};
