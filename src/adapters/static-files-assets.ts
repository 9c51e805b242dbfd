import type { StaticFiles } from './static-files.js';

/** The part of a Workers Static Assets binding (wrangler.toml [assets] binding = "ASSETS") used here. */
export interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/**
 * dist/public/ as wrangler uploaded it, read through the binding; the Worker's script then stays
 * free of the files' megabytes. The host of the URL is ignored by the binding: only the path counts.
 */
export function createAssetsStaticFiles(binding: AssetsBinding): StaticFiles {
  return {
    async read(path) {
      const response = await binding.fetch(new Request(new URL(path, 'https://assets.invalid')));
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) throw new Error(`static assets: ${response.status} for ${path}`);
      return response.body ?? new Uint8Array();
    },
  };
}
