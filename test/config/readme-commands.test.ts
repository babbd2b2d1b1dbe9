import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { meshproofProgram } from '../../helpers/cli/program.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { useTempDirs } from '../support/temp.ts';

/**
 * Every command the README and docs/ tell a person to type must exist, take the options shown, and — where it needs
 * no cluster — run as documented. A renamed command or option would otherwise surface as a confused user, not a
 * red test.
 */

const documents = ['README.md', ...readdirSync(fromRoot('docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** `meshproof …` commands as written: whole lines in code blocks, and inline code spans. */
function documentedCommands(): { command: string; where: string }[] {
  const found: { command: string; where: string }[] = [];
  for (const where of documents) {
    const text = readFileSync(fromRoot(where), 'utf8');
    for (const line of text.split('\n')) {
      const inBlock = /^\s*npx meshproof (.+)$/.exec(line);
      // A shell comment ends the command; `<recording…>` placeholders are kept (they are checked as arguments).
      if (inBlock) found.push({ command: inBlock[1]!.replace(/\s+#.*$/, '').trim(), where });
    }
    for (const span of text.matchAll(/`(?:npx )?meshproof ([a-z-][^`]*)`/g)) found.push({ command: span[1]!.trim(), where });
  }
  return found;
}

const meshproof = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
  execa(process.execPath, [fromRoot('bin', 'meshproof.js'), ...args], { cwd: options.cwd ?? fromRoot(), env: options.env, reject: false });

const tempDir = useTempDirs('meshproof-readme-');

describe('the commands the README and docs show', () => {
  const commands = documentedCommands();
  const subcommands = [...new Set(commands.map(({ command }) => command.split(/\s+/)[0]!))].filter((word) => !word.startsWith('-'));
  const help = new Map<string, string>();

  beforeAll(() => {
    // The help meshproof prints for `--help` and `<command> --help`, read from the declaration it prints it from.
    const program = meshproofProgram();
    help.set('', program.helpInformation());
    for (const name of subcommands) help.set(name, program.commands.find((command) => command.name() === name)?.helpInformation() ?? '');
  });

  it('are found (the extraction itself works)', () => {
    expect(commands.length).toBeGreaterThan(20);
    expect(subcommands).toEqual(expect.arrayContaining(['plan', 'deploy', 'cleanup', 'judge', 'monitor', 'versions']));
  });

  it('name commands meshproof has, with options it takes', () => {
    const wrong: string[] = [];
    for (const { command, where } of commands) {
      const [name, ...rest] = command.split(/\s+/);
      if (name!.startsWith('-')) {
        if (!help.get('')!.includes(name!)) wrong.push(`${where}: meshproof ${command} (no option ${name})`);
        continue;
      }
      if (!new RegExp(`^\\s+${name}\\b`, 'm').test(help.get('')!)) {
        wrong.push(`${where}: meshproof ${command} (no command ${name})`);
        continue;
      }
      for (const option of rest.filter((word) => word.startsWith('--'))) {
        if (!help.get(name!)!.includes(option)) wrong.push(`${where}: meshproof ${command} (${name} has no ${option})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('name arguments the commands accept: monitor modes and lab demos', () => {
    const wrong: string[] = [];
    // The modes as `meshproof monitor --help` states them ("  mode        summary, test or full").
    const modes = /^\s+mode\s+(.+)$/m.exec(help.get('monitor')!)![1]!.split(/, | or /);
    expect(modes).toEqual(expect.arrayContaining(['summary', 'test', 'full']));
    const demos = readdirSync(fromRoot('fixtures', 'features')).map((file) => file.replace(/^\d+-/, '').replace(/\.yaml$/, ''));
    for (const { command, where } of commands) {
      const [name, argument] = command.split(/\s+/);
      if (name === 'monitor' && argument && !modes.includes(argument)) wrong.push(`${where}: monitor ${argument}`);
      if (name === 'apply-feature' && argument && !argument.startsWith('<') && !demos.includes(argument)) wrong.push(`${where}: apply-feature ${argument}`);
    }
    expect(wrong).toEqual([]);
  });

  it('run as documented where they need no cluster', async () => {
    // `reports/recordings/*.json` stands for a finished run's recordings: the shipped healthy samples play them.
    const cwd = tempDir();
    const recordings = path.join(cwd, 'reports', 'recordings');
    mkdirSync(recordings, { recursive: true });
    const samples = fromRoot('docs', 'recordings', 'verdicts');
    for (const file of readdirSync(samples).filter((name) => name.endsWith('.healthy.json'))) copyFileSync(path.join(samples, file), path.join(recordings, file));
    const expand = (word: string): string[] => {
      if (!word.includes('*')) return [word];
      const dir = path.dirname(word);
      const pattern = new RegExp(`^${path.basename(word).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
      const base = dir.startsWith('reports') ? cwd : fromRoot();
      return readdirSync(path.join(base, dir))
        .filter((name) => pattern.test(name))
        .map((name) => path.join(base, dir, name));
    };

    const offline = new Map<string, (run: Awaited<ReturnType<typeof meshproof>>) => void>([
      ['config', (run) => expect(run.stdout).toMatch(/istio/i)],
      ['env', (run) => expect(run.stdout).toContain('MESHPROOF_ISTIO_VERSION')],
      ['versions', (run) => expect(run.stdout).toContain('1.31.1')],
      ['features', (run) => expect(run.stdout).toContain('traffic-shifting')],
      ['features --checks', (run) => expect(run.stdout).toContain('traffic-shifting/split')],
      ['recording-schema', (run) => expect(JSON.parse(run.stdout)).toHaveProperty('$schema')],
      ['--version', (run) => expect(run.stdout.trim()).toBe(JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')).version)],
      ['plan', (run) => expect(run.stdout).toContain('istio/istiod')],
    ]);
    const toRun = [...new Set(commands.map(({ command }) => command))].filter((command) => offline.has(command) || command.startsWith('judge ') && !command.includes('<'));
    expect(toRun).toEqual(expect.arrayContaining([...offline.keys(), 'judge --strict reports/recordings/*.json']));

    const runs = await Promise.all(
      toRun.map(async (command) => {
        const args = command.split(/\s+/).flatMap(expand);
        return [command, await meshproof(args, { env: { MESHPROOF_REPORTS_DIR: path.join(cwd, 'reports') } })] as const;
      }),
    );
    for (const [command, run] of runs) {
      expect(run.stderr, command).toBe('');
      if (command.startsWith('judge ')) {
        // The docs sample line mixes healthy and broken samples on purpose: 1 is its documented answer.
        const mixesBroken = command.includes('verdicts/*.json') || command.includes('docs/recordings/*.json');
        expect(run.exitCode, `${command}\n${run.stdout}`).toBe(mixesBroken ? 1 : 0);
        expect(run.stdout.trim().split('\n').at(-1), command).toMatch(/^\d+ passed, \d+ failed, 0 invalid$/);
      } else {
        expect(run.exitCode, `${command}\n${run.stdout}`).toBe(0);
        offline.get(command)!(run);
      }
    }
  }, 120_000);

  it('name npm scripts package.json has; `npm run report` reaches the report command', async () => {
    const scripts = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const named = new Set(documents.flatMap((where) => [...readFileSync(fromRoot(where), 'utf8').matchAll(/npm run ([a-z][-a-z:]*)/g)].map((match) => match[1]!)));
    expect([...named].filter((script) => !(script in scripts))).toEqual([]);
    expect(scripts.test).toBeDefined();

    // With no results it must say what to do: proof that the script reaches `meshproof report`.
    const run = await execa('npm', ['run', '--silent', 'report'], { cwd: fromRoot(), env: { MESHPROOF_REPORTS_DIR: tempDir() }, reject: false });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/there are no Allure results in [\s\S]*npm test/);
  }, 60_000);
});
