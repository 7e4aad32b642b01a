import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  dir: string;
  /** Writes a file until the file system says ENOSPC: the disk is full. */
  fill(): void;
  /** Deletes what fill() wrote: there is room again. */
  unfill(): void;
  /** Mounts it again with these options (`ro`, `rw`). */
  remount(options: string): void;
  unmount(): void;
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (these tests need root to mount a tmpfs): ${r.stderr || r.error?.message}`);
}

/**
 * A tmpfs of a few MiB on a fresh folder: a disk that really fills up, a mount that really is
 * read-only. Mounting needs root (CAP_SYS_ADMIN): without it this throws and the test fails;
 * it is never skipped.
 */
export function mountTmpfs(sizeBytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'dialguard-tmpfs-'));
  run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        // Large writes first, then single pages, until not even a page fits.
        for (const chunk of [Buffer.alloc(256 * 1024), Buffer.alloc(4096), Buffer.alloc(512)]) {
          for (;;) {
            try {
              writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    unfill() {
      rmSync(filler, { force: true });
    },
    remount(options) {
      run('mount', ['-o', `remount,${options}`, dir]);
    },
    unmount() {
      run('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
