import type { OpenedMapArchive } from '../../adapters/map-archive-source.js';
import type { Config } from '../../config.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../http/app-error.js';
import { MAP_ARCHIVE_PATH } from '../../protocol/api/map-archive.js';

// The operator's street-map archive, served from our own origin so that no third party learns
// which part of the world the page shows. It is the same public map data for every account.

/** How long a reader waits before asking again for an archive that is configured but cannot be read. */
const RETRY_UNAVAILABLE_SECONDS = 300;

/** The archive as it is now; 404 when none is configured, 503 when it is configured but cannot be read. */
export async function openMapArchive(deps: Pick<Deps, 'mapArchive'>): Promise<OpenedMapArchive> {
  if (!deps.mapArchive) {
    throw new AppError('not_found', 'this server has no street map: MAP_ARCHIVE_FILE and MAP_ARCHIVE_BLOB_KEY are unset');
  }
  const opening = await deps.mapArchive.open();
  if ('unavailable' in opening) {
    throw new AppError('service_unavailable', `the street map cannot be read right now: ${opening.unavailable}`, {
      retryAfterSeconds: RETRY_UNAVAILABLE_SECONDS,
    });
  }
  return opening.archive;
}

/**
 * Logs once, at start-up, whether the configured archive can be served and how big it is (never
 * its path), so that a missing file is found by the operator rather than by a user.
 */
export async function reportMapArchive(deps: Pick<Deps, 'mapArchive' | 'log'>): Promise<void> {
  const source = deps.mapArchive;
  if (!source) return;
  try {
    const opening = await source.open();
    if ('unavailable' in opening) {
      deps.log.warn('map archive unavailable', { setting: source.setting, reason: opening.unavailable });
      return;
    }
    await opening.archive.close();
    deps.log.info('map archive', { setting: source.setting, size: opening.archive.size });
  } catch (error) {
    deps.log.warn('map archive unavailable', { setting: source.setting, reason: String(error).slice(0, 300) });
  }
}

/** What the page is told of the archive (its meta tag), or undefined when none is configured. */
export function mapArchivePageConfig(map: Config['map']): { path: string; fetchWholeBelowBytes: number } | undefined {
  if (!map.file && !map.blobKey) return undefined;
  return { path: MAP_ARCHIVE_PATH, fetchWholeBelowBytes: map.fetchWholeBelowBytes };
}
