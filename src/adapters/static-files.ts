/**
 * The files the build writes to dist/public/ (the page's script, stylesheet and map data; the API
 * reference's scripts and licences), each read by the path it is served at. Node reads the folder
 * (static-files-dir.ts); Workers read the Static Assets wrangler uploaded from it
 * (static-files-assets.ts). Paths come from the build's manifests, never from a request.
 */
export interface StaticFiles {
  /** The file's bytes ("/assets/world.json"), or undefined when the folder has no such file. */
  read(path: string): Promise<ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | undefined>;
}
