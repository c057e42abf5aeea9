import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Checkpoint } from './checkpoint.js';

const NAME = /^checkpoint-(\d{16})\.jws$/;

/**
 * The checkpoint witness: a directory outside the database (`DOELPOORT_CHECKPOINT_DIR`, best on another mount or
 * host) that receives every signed checkpoint once it is committed, so that whoever holds the database file cannot
 * truncate the log together with its stored checkpoints unnoticed. One file per checkpoint,
 * `checkpoint-<size, 16 digits>.jws` holding the compact JWS, mode 0600, written under a temporary name, fsynced and
 * renamed, so a reader never sees a partial file. Files are only ever added.
 */
export class CheckpointWitness {
  constructor(readonly dir: string) {
    if (!path.isAbsolute(dir)) throw new TypeError('CheckpointWitness: dir must be an absolute path');
  }

  /** Writes `checkpoint` unless a file for its size is there already. Throws on an I/O failure (errno codes). */
  write(checkpoint: Checkpoint): void {
    const file = path.join(this.dir, fileName(checkpoint.size));
    if (fs.existsSync(file)) return;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temporary = path.join(this.dir, `.${fileName(checkpoint.size)}.${randomBytes(6).toString('hex')}.tmp`);
    const fd = fs.openSync(temporary, 'wx', 0o600);
    try {
      fs.writeSync(fd, `${checkpoint.signature}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, file);
    const dirFd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }

  /** The compact JWS of the newest (largest) witnessed checkpoint, or null when there is none (or no directory yet). */
  newest(): string | null {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const newest = names
      .filter((n) => NAME.test(n))
      .sort()
      .at(-1);
    return newest === undefined ? null : fs.readFileSync(path.join(this.dir, newest), 'utf8').trim();
  }
}

/** The witness of a configured directory, or none. */
export function checkpointWitness(dir: string | undefined): CheckpointWitness | undefined {
  return dir === undefined ? undefined : new CheckpointWitness(dir);
}

function fileName(size: number): string {
  return `checkpoint-${String(size).padStart(16, '0')}.jws`;
}
