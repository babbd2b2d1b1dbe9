import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadClusterToolSpecs, type ClusterToolName } from '../../helpers/config/cluster-tools.ts';
import { shellQuote, writeScript } from './temp.ts';

/**
 * Stand-ins for what cannot run here — the container engine, kubectl, helm — as executables the production code
 * really spawns. Each appends its arguments to <bin>/<name>.calls, so a test can prove what was (not) asked.
 */

const callLog = (bin: string, name: string) => path.join(bin, `${name}.calls`);

/** The calls a stand-in received, one argument list a line. */
export function standInCalls(bin: string, name: string): string[] {
  const file = callLog(bin, name);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}


export interface EngineStandIn {
  name?: 'docker' | 'podman';
  /** What `info` prints (JSON); a running Docker with 16 GiB by default. */
  info?: string;
  /** `ps -a --filter label=io.x-k8s.kind.cluster=…` lines: "name<TAB>state<TAB>ports". */
  kindNodes?: string[];
  /** `ps` lines (running containers): "name<TAB>ports". */
  containers?: string[];
}

/** A docker (or podman) client whose engine answers `info` and `ps` as told. */
export function writeEngine(bin: string, options: EngineStandIn = {}): string {
  const name = options.name ?? 'docker';
  const info = options.info ?? '{"ServerVersion":"27.3.1","MemTotal":17179869184}';
  const lines = (list: string[] | undefined) => shellQuote((list ?? []).map((line) => `${line}\n`).join(''));
  return writeScript(
    bin,
    name,
    [
      `echo "$*" >> ${shellQuote(callLog(bin, name))}`,
      'case "$1" in',
      `  info) echo ${shellQuote(info)} ;;`,
      `  ps) if [ "$2" = "-a" ]; then printf '%s' ${lines(options.kindNodes)}; else printf '%s' ${lines(options.containers)}; fi ;;`,
      `  *) echo "stand-in ${name}: cannot $*" >&2; exit 1 ;;`,
      'esac',
    ].join('\n'),
  );
}

/**
 * A kubectl whose `port-forward` really listens, as client-go's does: on the local port given (or one the system
 * picks), printing "Forwarding from 127.0.0.1:<port> -> <remote>", each request answered with "<target>:<remote>";
 * a taken port is refused with client-go's own words. Targets listed in $STAND_IN_MISSING (comma-separated) do
 * not exist: kubectl says so and exits, as it does for a Service that is not there. Ports listed in $STAND_IN_TAKEN
 * are refused as taken although they are free.
 */
export function writePortForwardKubectl(bin: string): string {
  const file = path.join(bin, 'kubectl');
  writeFileSync(
    file,
    `#!${process.execPath}
const http = require('node:http');
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(callLog(bin, 'kubectl'))}, args.join(' ') + '\\n');
const at = args.indexOf('port-forward');
if (at < 0) { console.error('stand-in kubectl: cannot ' + args.join(' ')); process.exit(1); }
const target = args[at + 3];
const [local, remote] = args[at + 4].split(':');
if ((process.env.STAND_IN_MISSING || '').split(',').includes(target)) {
  console.error('Error from server (NotFound): services "' + target.split('/')[1] + '" not found');
  process.exit(1);
}
const server = http.createServer((request, response) => response.end(target + ':' + remote));
const refuse = () => {
  console.error('Unable to listen on port ' + local + ': Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 127.0.0.1:' + local + ': bind: address already in use]');
  console.error('error: unable to listen on any of the requested ports: [{' + local + ' ' + remote + '}]');
  process.exit(1);
};
server.on('error', refuse);
// A port some other program takes between meshproof's check and kubectl's bind.
if (local && (process.env.STAND_IN_TAKEN || '').split(',').includes(local)) refuse();
server.listen(Number(local || 0), '127.0.0.1', () => console.log('Forwarding from 127.0.0.1:' + server.address().port + ' -> ' + remote));
process.on('SIGTERM', () => process.exit(0));
`,
  );
  chmodSync(file, 0o755);
  return file;
}

/**
 * Puts a stand-in where meshproof's tools cache keeps the pinned version (<toolsDir>/<tool>/<version>/<binary>), so
 * the CLI uses it as a verified download, without a download.
 */
export function cacheTool(toolsDir: string, tool: ClusterToolName, body: string): string {
  const spec = loadClusterToolSpecs()[tool];
  const dir = path.join(toolsDir, tool, spec.version);
  mkdirSync(dir, { recursive: true });
  const file = writeScript(dir, spec.binary, `echo "$*" >> ${shellQuote(callLog(toolsDir, tool))}\n${body}`);
  return file;
}

/** A kubeconfig in `dir` with one context, "lab", whose API server is https://127.0.0.1:6443 (nothing listens there). */
export function writeKubeconfig(dir: string): string {
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: lab, cluster: {server: "https://127.0.0.1:6443"}}]',
      'users: [{name: me, user: {token: abc}}]',
      'contexts: [{name: lab, context: {cluster: lab, user: me}}]',
      'current-context: lab',
    ].join('\n'),
  );
  return file;
}

/** A loopback port that was free a moment ago (the system's pick), for settings a test must not collide on. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Holds a loopback port, as another program on a laptop would, until `release`, which also drops the connections
 * it accepted meanwhile (a probe that reached it would otherwise keep the port held).
 */
export async function holdPort(port = 0): Promise<{ port: number; release: () => Promise<void> }> {
  const accepted = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted.add(socket);
    socket.once('close', () => accepted.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const release = () =>
    new Promise<void>((resolve) => {
      for (const socket of accepted) socket.destroy();
      server.close(() => resolve());
    });
  return { port: (server.address() as net.AddressInfo).port, release };
}
