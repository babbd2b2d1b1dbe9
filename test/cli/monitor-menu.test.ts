import { spawn } from 'node:child_process';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { cacheTool, writeKubeconfig } from '../support/lab-stand-ins.ts';
import { shellQuote, useTempDirs } from '../support/temp.ts';

/**
 * `meshproof monitor` with no mode, as a person runs it: in a terminal it offers a menu of the modes, without one
 * (a pipe, a script) it prints the summary. The terminal is a real pseudo-terminal: util-linux `script` runs the
 * command on one and relays this test's writes to it as keystrokes, so meshproof sees a TTY on stdin and stdout and
 * readline reads keys raw, exactly as in a shell. The cluster is an existing context whose kubectl and helm are
 * stand-ins in meshproof's tools cache.
 */
const tempDir = useTempDirs('meshproof-monitor-menu-');

const pods = {
  items: ['productpage-v1-6d8c6b9d8b-2kq5x', 'reviews-v1-5b8f7c6d9-q4m2n'].map((name) => ({
    metadata: { name, namespace: 'bookinfo' },
    status: { phase: 'Running', containerStatuses: [{ name: name.split('-')[0], ready: true, restartCount: 0 }, { name: 'istio-proxy', ready: true, restartCount: 0 }] },
  })),
};

function labOnExistingContext() {
  const toolsDir = tempDir();
  const kubeconfig = writeKubeconfig(tempDir());
  cacheTool(
    toolsDir,
    'kubectl',
    [
      'case "$*" in',
      `  *" version -o json") echo '{"serverVersion":{"gitVersion":"v1.35.2"}}' ;;`,
      `  *" get pods -n bookinfo -o json") echo '${JSON.stringify(pods)}' ;;`,
      `  *" get pods -n "*) echo '{"items":[]}' ;;`,
      '  *" get cronjob traffic-generator "*) printf false ;;',
      '  *) echo "stand-in kubectl: cannot $*" >&2; exit 1 ;;',
      'esac',
    ].join('\n'),
  );
  cacheTool(toolsDir, 'helm', `echo '[{"name":"istiod","chart":"istiod-1.31.1","status":"deployed","app_version":"1.31.1"}]'`);
  const env = {
    PATH: `${path.dirname(process.execPath)}${path.delimiter}/usr/bin:/bin`,
    HOME: tempDir(),
    TERM: 'xterm',
    MESHPROOF_TOOLS_DIR: toolsDir,
    MESHPROOF_TARGET: 'existing',
    MESHPROOF_KUBECONFIG: kubeconfig,
  };
  return { env, command: [process.execPath, fromRoot('bin', 'meshproof.js'), 'monitor'] };
}

/** What a person sees: the terminal's output without its cursor and colour escapes, line ends as \n. */
const screen = (raw: string) => raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n?/g, '\n');

/**
 * Runs `command` on a pseudo-terminal and plays a conversation: for each step, waits until the screen (since the
 * previous step) matches `when`, then types `type`. Fails naming the step and the screen when a step never comes.
 */
async function converse(command: string[], env: Record<string, string>, steps: { when: RegExp; type: string }[], stepTimeoutMs: number) {
  const quoted = command.map(shellQuote).join(' ');
  // -q: no "Script started" banner; -e: script exits with the command's exit code; /dev/null: no typescript file.
  const child = spawn('script', ['-q', '-e', '-c', quoted, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  let from = 0;
  let waiting: (() => void) | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
    waiting?.();
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exitCode = code;
      waiting?.();
      resolve(code);
    }),
  );
  try {
    for (const [i, step] of steps.entries()) {
      await new Promise<void>((resolve, reject) => {
        const fail = (why: string) => reject(new Error(`step ${i} (${step.when}) ${why}; the screen since the last step:\n${screen(raw.slice(from))}`));
        const timer = setTimeout(() => fail('never came'), stepTimeoutMs);
        waiting = () => {
          if (step.when.test(screen(raw.slice(from)))) {
            clearTimeout(timer);
            resolve();
          } else if (exitCode !== undefined) {
            clearTimeout(timer);
            fail(`never came: the command exited with ${exitCode}`);
          }
        };
        waiting();
      });
      from = raw.length;
      child.stdin.write(step.type);
    }
    return { exitCode: await exited, screen: screen(raw) };
  } finally {
    child.kill();
  }
}

describe('meshproof monitor without a mode', () => {
  it('offers a menu of the modes in a terminal, shows the one chosen, and again until q', async () => {
    const { env, command } = labOnExistingContext();
    const prompt = /q {2}quit\n> $/;
    const { exitCode, screen: seen } = await converse(
      command,
      env,
      [
        { when: prompt, type: '1\r' },
        { when: new RegExp(`reviews-v1-5b8f7c6d9-q4m2n +2/2 +Running +0 +yes[\\s\\S]*Helm releases in istio-system: istiod \\(istiod-1\\.31\\.1, deployed\\)[\\s\\S]*${prompt.source}`), type: 'nine\r' },
        { when: new RegExp(`"nine" is not one of the choices: 1, 2, 3 or q\\.\\n[\\s\\S]*${prompt.source}`), type: 'q\r' },
      ],
      20_000,
    );
    expect(exitCode).toBe(0);
    expect(seen).toContain(
      [
        'What to show of the lab?',
        '  1  summary  pods, sidecars, Helm releases, traffic generator',
        '  2  test     does each component answer',
        '  3  full     the detailed report: restarts, chart versions, Istio config, proxy sync, warnings, traffic jobs, components',
        '  q  quit',
      ].join('\n'),
    );
    expect(seen.match(/What to show of the lab\?/g)).toHaveLength(3);
  }, 60_000);

  it('prints the summary, and no menu, when it is not in a terminal', async () => {
    const { env, command } = labOnExistingContext();
    const result = await execa(command[0]!, command.slice(1), { env, extendEnv: false, reject: false, timeout: 30_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^NAMESPACE +POD +READY +STATUS +RESTARTS +SIDECAR\n/);
    expect(result.stdout).toContain('Traffic generator: running');
    expect(result.stdout).not.toContain('What to show');
  }, 60_000);
});
