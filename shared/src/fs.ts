/**
 * The narrow file-system interface components use, so tests can hand in a
 * directory of their own or an in-memory double.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';

/** The file-system calls gpuwarden makes. Paths are absolute or cwd-relative. */
export interface Fs {
  readFile(file: string): Promise<Buffer>;
  readText(file: string): Promise<string>;
  readTextSync(file: string): string;
  readdir(dir: string): Promise<string[]>;
  readlink(file: string): Promise<string>;
  /** Writes via a temporary file and rename, fsynced: never half a file. */
  writeFileAtomic(file: string, data: string | Buffer): Promise<void>;
  appendFile(file: string, data: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
  rm(file: string): Promise<void>;
  exists(file: string): Promise<boolean>;
  stat(file: string): Promise<{ sizeBytes: number; mtimeMs: number }>;
}

/** The real file system. */
export function createNodeFs(): Fs {
  return {
    readFile: (file) => fsp.readFile(file),
    readText: (file) => fsp.readFile(file, 'utf8'),
    readTextSync: (file) => readFileSync(file, 'utf8'),
    readdir: (dir) => fsp.readdir(dir),
    readlink: (file) => fsp.readlink(file),
    writeFileAtomic,
    appendFile: (file, data) => fsp.appendFile(file, data),
    mkdir: async (dir) => {
      await fsp.mkdir(dir, { recursive: true });
    },
    rm: (file) => fsp.rm(file, { force: true, recursive: true }),
    exists: async (file) => {
      try {
        await fsp.access(file);
        return true;
      } catch {
        return false;
      }
    },
    stat: async (file) => {
      const info = await fsp.stat(file);
      return { sizeBytes: info.size, mtimeMs: info.mtimeMs };
    },
  };
}

async function writeFileAtomic(file: string, data: string | Buffer) {
  const dir = path.dirname(file);
  const temp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  await fsp.mkdir(dir, { recursive: true });
  const handle = await fsp.open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(temp, file);
  await syncDir(dir);
}

async function syncDir(dir: string) {
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still
    // atomic, only its durability across power loss is weaker there.
  }
}
