// Types of scripts/check-worker-size.mjs, for the bench (test/bench/worker-size.ts).
export declare const TARGET_GZIP_KIB: number;
export interface WorkerPart {
  name: string;
  /** Its bytes in the bundle (esbuild's metafile). */
  bytes: number;
  /** Its own text in the bundle, gzipped alone. */
  gzipBytes: number;
}
export interface WorkerSize {
  /** Every module of the upload, as wrangler counts them. */
  bytes: number;
  gzipBytes: number;
  parts: WorkerPart[];
  /** wrangler's own "Total Upload" line. */
  wrangler: string;
}
export declare function partOf(input: string): string;
export declare function measureWorker(options: { root: string; outdir: string; script?: string }): WorkerSize;
