import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describePortHolder, findPortHolder, firstFreePort, hostPortState } from '../../helpers/net/host-port.ts';
import { freePort, holdPort } from '../support/lab-stand-ins.ts';
import { useTempDirs, writeScript } from '../support/temp.ts';

const tempDir = useTempDirs('meshproof-host-port-');
const timeoutMs = 3_000;

describe('whether a host port can be listened on (a real bind)', () => {
  it('is free until something listens, and taken while it does', async () => {
    const held = await holdPort();
    expect(await hostPortState('127.0.0.1', held.port)).toBe('in-use');
    await held.release();
    expect(await hostPortState('127.0.0.1', held.port)).toBe('free');
  });

  it('finds the first free port of a list', async () => {
    const held = await holdPort();
    const spare = await freePort();
    try {
      expect(await firstFreePort('127.0.0.1', [held.port, spare])).toBe(spare);
      expect(await firstFreePort('127.0.0.1', [held.port])).toBeUndefined();
    } finally {
      await held.release();
    }
  });
});

describe('which process holds a port', () => {
  it.runIf(process.platform === 'linux')('on Linux, from /proc: the listening socket of this very process', async () => {
    const held = await holdPort();
    try {
      const lookup = await findPortHolder(held.port, { timeoutMs });
      expect(lookup.holder).toMatchObject({ pid: process.pid, command: readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim() });
      expect(lookup.asked).toEqual(['/proc']);
      expect(describePortHolder(held.port, lookup, 'linux')).toBe(`${lookup.holder!.command} (pid ${process.pid})`);
    } finally {
      await held.release();
    }
  });

  it('on Linux, names the owner it can see when the process itself is hidden (another user\'s), and how to see more', async () => {
    // A /proc where the socket table is readable but no process's fds are: what a user sees of root's docker-proxy.
    const proc = tempDir();
    mkdirSync(path.join(proc, 'net'));
    writeFileSync(
      path.join(proc, 'net', 'tcp'),
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
        '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 48213 1 0000000000000000 100 0 0 10 0\n',
    );
    mkdirSync(path.join(proc, '4242'));
    const lookup = await findPortHolder(8080, { timeoutMs, platform: 'linux', procRoot: proc, env: { PATH: tempDir() } });
    expect(lookup).toEqual({ holder: { uid: 0 }, asked: ['/proc', 'ss (not installed)', 'lsof (not installed)'] });
    expect(describePortHolder(8080, lookup, 'linux')).toBe("a process of user id 0 that this user cannot inspect (`sudo ss -ltnp 'sport = :8080'` names it)");
  });

  it('on Linux without procfs, asks ss', async () => {
    const bin = tempDir();
    writeScript(bin, 'ss', `echo 'LISTEN 0      511        127.0.0.1:8080      0.0.0.0:*    users:(("nginx",pid=4242,fd=6))'`);
    const lookup = await findPortHolder(8080, { timeoutMs, platform: 'linux', procRoot: tempDir(), env: { PATH: bin } });
    expect(lookup.holder).toEqual({ command: 'nginx', pid: 4242 });
    expect(lookup.asked).toEqual(['/proc (not readable)', 'ss']);
  });

  it('on macOS, asks lsof', async () => {
    const bin = tempDir();
    writeScript(bin, 'lsof', `[ "$*" = "-nP -iTCP:3000 -sTCP:LISTEN -Fpc" ] || exit 1\nprintf 'p4711\\ncnode\\n'`);
    const lookup = await findPortHolder(3000, { timeoutMs, platform: 'darwin', env: { PATH: bin } });
    expect(describePortHolder(3000, lookup, 'darwin')).toBe('node (pid 4711)');
  });

  it('says what it asked, and what would tell, when nothing could', async () => {
    const lookup = await findPortHolder(3000, { timeoutMs, platform: 'darwin', env: { PATH: tempDir() } });
    expect(lookup).toEqual({ holder: undefined, asked: ['lsof (not installed)'] });
    expect(describePortHolder(3000, lookup, 'darwin')).toBe(
      'a process meshproof could not identify (asked lsof (not installed); `sudo lsof -nP -iTCP:3000 -sTCP:LISTEN` names it)',
    );
  });
});
