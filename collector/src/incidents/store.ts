/**
 * The incident store: one JSON document under the data directory, read and
 * written through lowdb on the injected file system. Every write replaces
 * the file atomically (temporary file, fsync, rename), so a crash at any
 * moment leaves either the previous or the new document, never half of
 * one. Writes are serialised; a save asked for during a write is folded
 * into the next one.
 */
import path from 'node:path';
import { Low } from 'lowdb';
import type { Adapter } from 'lowdb';
import { GpuwardenError } from '../../../shared/src/errors.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { Logger } from '../../../shared/src/logger.ts';
import { err, ok } from '../../../shared/src/result.ts';
import type { Result } from '../../../shared/src/result.ts';
import type { Incident } from './incident.ts';

/** The stored document. */
export interface StoreDocument {
  /** Format version of this document. */
  version: 1;
  incidents: Incident[];
}

// TODO: closed incidents keep their evidence (tens of KiB each) in this one
// document, and every save rewrites all of it; with thousands of incidents
// writes grow slow. Moving the evidence of closed incidents into one file
// per incident would keep the document small.

/** The file name of the store under the data directory. */
export const STORE_FILE = 'incidents.json';

/** A loaded store: its document in memory and a serialised save. */
export interface IncidentStore {
  readonly data: StoreDocument;
  readonly file: string;
  /** Writes the document as it is now; resolves when it is on disk. */
  save(): Promise<Result<void, Error>>;
}

/**
 * Opens (or creates) the store in `dataDir`. Throws a `STORE_FAILED`
 * error when the file exists but is not a store document, and leaves the
 * file untouched so nothing stored is lost.
 */
export async function openIncidentStore(
  options: { dataDir: string },
  deps: { fs: Fs; logger: Logger },
): Promise<IncidentStore> {
  const file = path.join(options.dataDir, STORE_FILE);
  await deps.fs.mkdir(options.dataDir);
  const db = new Low<StoreDocument>(fsAdapter(file, deps.fs), {
    version: 1,
    incidents: [],
  });
  await db.read();
  return {
    data: db.data,
    file,
    save: serialisedSave(() => db.write(), deps.logger, file),
  };
}

function fsAdapter(file: string, fs: Fs): Adapter<StoreDocument> {
  return {
    read: async () => {
      if (!(await fs.exists(file))) return null;
      const text = await fs.readText(file);
      return parseDocument(text, file);
    },
    write: (data) =>
      fs.writeFileAtomic(file, `${JSON.stringify(data, null, 1)}\n`),
  };
}

function parseDocument(text: string, file: string): StoreDocument {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new GpuwardenError(
      'STORE_FAILED',
      `incident store ${file} is not valid JSON (${(error as Error).message}); move it aside to start an empty store`,
      { cause: error },
    );
  }
  const doc = data as Partial<StoreDocument> | null;
  if (!doc || doc.version !== 1 || !Array.isArray(doc.incidents)) {
    throw new GpuwardenError(
      'STORE_FAILED',
      `incident store ${file} is not a version 1 store document; move it aside to start an empty store`,
    );
  }
  return doc as StoreDocument;
}

function serialisedSave(
  write: () => Promise<void>,
  logger: Logger,
  file: string,
): () => Promise<Result<void, Error>> {
  let running: Promise<Result<void, Error>> | null = null;
  let queued: Promise<Result<void, Error>> | null = null;

  const attempt = async (): Promise<Result<void, Error>> => {
    try {
      await write();
      return ok(undefined);
    } catch (error) {
      logger.error({ err: error, file }, 'incident store write failed');
      return err(error as Error);
    }
  };
  const start = (): Promise<Result<void, Error>> => {
    const run = attempt().finally(() => {
      if (running === run) running = null;
    });
    running = run;
    return run;
  };

  return () => {
    if (!running) return start();
    // One write is running with older data: queue one more, shared by all
    // callers that arrive before it starts.
    queued ??= running.then(() => {
      queued = null;
      return start();
    });
    return queued;
  };
}
