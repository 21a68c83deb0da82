/** An in-memory {@link Fs} for guard tests: files are strings in a map. */
import type { Fs } from '../../../shared/src/fs.ts';

export class MemoryFs implements Fs {
  readonly files = new Map<string, string>();

  async readFile(file: string): Promise<Buffer> {
    return Buffer.from(this.readTextSync(file));
  }
  async readText(file: string): Promise<string> {
    return this.readTextSync(file);
  }
  readTextSync(file: string): string {
    const text = this.files.get(file);
    if (text === undefined) {
      throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    }
    return text;
  }
  async readdir(): Promise<string[]> {
    return [];
  }
  async readlink(file: string): Promise<string> {
    return this.readTextSync(file);
  }
  async writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
    this.files.set(file, String(data));
  }
  async appendFile(file: string, data: string): Promise<void> {
    this.files.set(file, (this.files.get(file) ?? '') + data);
  }
  async mkdir(): Promise<void> {}
  async rm(file: string): Promise<void> {
    this.files.delete(file);
  }
  async exists(file: string): Promise<boolean> {
    return this.files.has(file);
  }
  async stat(file: string) {
    return { sizeBytes: this.readTextSync(file).length, mtimeMs: 0 };
  }

  /** The JSON lines of a file, parsed. */
  lines(file: string): Record<string, unknown>[] {
    return (this.files.get(file) ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
