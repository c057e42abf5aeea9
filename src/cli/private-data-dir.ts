import fs from 'node:fs';
import path from 'node:path';

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/**
 * Makes the data dir the owner's alone before a command uses it: creates it 0700, and tightens an existing one that
 * group or others may read (to 0700) and every file in it they may read (to 0600): the database and its -wal and
 * -shm, the keys. Each change is reported in one line, naming the file, never its content.
 */
export function privateDataDir(dataDir: string, report: (line: string) => void = (line) => console.error(line)): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const dir = fs.statSync(dataDir);
  if (dir.mode & 0o077) {
    fs.chmodSync(dataDir, 0o700);
    report(`doelpoort: the data dir was ${octal(dir.mode)}; tightened to 0700`);
  }
  for (const entry of fs.readdirSync(dataDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(dataDir, entry.name);
    const { mode } = fs.statSync(file);
    if (mode & 0o077) {
      fs.chmodSync(file, 0o600);
      report(`doelpoort: ${entry.name} in the data dir was ${octal(mode)}; tightened to 0600`);
    }
  }
}
