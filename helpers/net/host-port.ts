import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import which from 'which';

/**
 * Host ports, as the tools that bind them see them: whether a port can be listened on now, and which process
 * holds it when it cannot. kind (through the container engine) binds the ingress's host port, and kubectl binds
 * each port-forward's; a laptop often has one of them taken already.
 */

export type HostPortState = 'free' | 'in-use' | 'not-permitted';

/**
 * Binds `host:port` for a moment, exactly as kubectl and the container engine will: the answer is the operating
 * system's own, with its rules about wildcard and loopback listeners (which differ between Linux and macOS), not
 * a guess from a listing. Node, Go (kubectl, Docker) and libuv all set SO_REUSEADDR on listeners, so a port in
 * TIME_WAIT counts as free for all of them alike.
 */
export function hostPortState(host: string, port: number): Promise<HostPortState> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve('in-use');
      // A port below 1024 for a user without the privilege to bind it.
      else if (error.code === 'EACCES') resolve('not-permitted');
      else reject(error);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

/** The first port of `candidates` that is free on `host`, if any: a concrete suggestion beats "pick another port". */
export async function firstFreePort(host: string, candidates: number[]): Promise<number | undefined> {
  for (const port of candidates) if ((await hostPortState(host, port)) === 'free') return port;
  return undefined;
}

export interface PortHolder {
  pid?: number;
  command?: string;
  /** The owner's user id, known from /proc/net/tcp even when its process cannot be inspected. */
  uid?: number;
}

export interface PortHolderLookup {
  holder: PortHolder | undefined;
  /** What was asked, in order, for the message when nothing answered ("/proc", "ss", "lsof (not installed)"). */
  asked: string[];
}

export interface PortHolderOptions {
  /** Budget for one `ss` or `lsof` call (timeouts.preflight). */
  timeoutMs: number;
  platform?: NodeJS.Platform;
  /** The environment ss and lsof are looked up and run in. */
  env?: NodeJS.ProcessEnv;
  /** Where procfs is mounted; tests point it elsewhere. */
  procRoot?: string;
}

/**
 * Which process listens on TCP `port`. On Linux from procfs first — the listening socket's inode in
 * /proc/net/tcp{,6}, then the process whose /proc/<pid>/fd links to it — because it needs no tool; then `ss -ltnp`
 * and `lsof`, when installed. On macOS from `lsof`. Another user's process (root's docker-proxy, say) is invisible
 * to all of them without privileges: the lookup then says what it could learn (the owner's uid) and what it asked.
 */
export async function findPortHolder(port: number, options: PortHolderOptions): Promise<PortHolderLookup> {
  const platform = options.platform ?? process.platform;
  const asked: string[] = [];
  let owner: PortHolder | undefined;
  if (platform === 'linux') {
    const fromProc = listenerFromProc(port, options.procRoot ?? '/proc');
    asked.push(fromProc.readable ? '/proc' : '/proc (not readable)');
    if (fromProc.holder?.pid) return { holder: fromProc.holder, asked };
    owner = fromProc.holder;
    const fromSs = await listenerFromSs(port, options);
    asked.push(fromSs.asked);
    if (fromSs.holder) return { holder: { ...owner, ...fromSs.holder }, asked };
  }
  const fromLsof = await listenerFromLsof(port, options);
  asked.push(fromLsof.asked);
  if (fromLsof.holder) return { holder: { ...owner, ...fromLsof.holder }, asked };
  return { holder: owner, asked };
}

/** "node (pid 4711)", or as much as is known, with the command that tells more when the process stayed hidden. */
export function describePortHolder(port: number, lookup: PortHolderLookup, platform: NodeJS.Platform = process.platform): string {
  const { holder } = lookup;
  if (holder?.pid) return `${holder.command ?? 'a process'} (pid ${holder.pid})`;
  const reveal = platform === 'linux' ? `sudo ss -ltnp 'sport = :${port}'` : `sudo lsof -nP -iTCP:${port} -sTCP:LISTEN`;
  if (holder?.uid !== undefined) return `a process of user id ${holder.uid} that this user cannot inspect (\`${reveal}\` names it)`;
  return `a process meshproof could not identify (asked ${lookup.asked.join(', ')}; \`${reveal}\` names it)`;
}

/** Lines of /proc/net/tcp: "sl local_address rem_address st … uid timeout inode"; ports are hex, state 0A is LISTEN. */
function listenerFromProc(port: number, procRoot: string): { readable: boolean; holder?: PortHolder } {
  const listeners: { inode: string; uid: number }[] = [];
  let readable = false;
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(path.join(procRoot, 'net', table), 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = Number.parseInt(fields[1]?.split(':').at(-1) ?? '', 16);
      if (localPort === port && fields[3] === '0A' && fields[9] && fields[9] !== '0') listeners.push({ inode: fields[9], uid: Number(fields[7]) });
    }
  }
  if (listeners.length === 0) return { readable };
  const sockets = new Set(listeners.map(({ inode }) => `socket:[${inode}]`));
  for (const entry of safeReaddir(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const fdDir = path.join(procRoot, entry, 'fd');
    for (const fd of safeReaddir(fdDir)) {
      let target: string;
      try {
        target = readlinkSync(path.join(fdDir, fd));
      } catch {
        continue;
      }
      if (sockets.has(target)) return { readable, holder: { pid: Number(entry), command: readComm(procRoot, entry), uid: listeners[0]!.uid } };
    }
  }
  return { readable, holder: { uid: listeners[0]!.uid } };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    // Another user's /proc/<pid>/fd, or a process that just ended.
    return [];
  }
}

function readComm(procRoot: string, pid: string): string | undefined {
  try {
    return readFileSync(path.join(procRoot, pid, 'comm'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function run(tool: string, args: string[], options: PortHolderOptions): Promise<{ asked: string; stdout?: string }> {
  const found = await which(tool, { path: options.env?.PATH ?? process.env.PATH ?? '', nothrow: true });
  if (!found) return { asked: `${tool} (not installed)` };
  const result = await execa(found, args, { env: options.env, reject: false, timeout: options.timeoutMs, stdin: 'ignore' });
  return { asked: tool, stdout: result.exitCode === 0 ? result.stdout : undefined };
}

/** `ss -Hltnp 'sport = :8080'` prints `LISTEN 0 511 127.0.0.1:8080 0.0.0.0:* users:(("nginx",pid=4242,fd=6))`. */
async function listenerFromSs(port: number, options: PortHolderOptions): Promise<{ asked: string; holder?: PortHolder }> {
  const { asked, stdout } = await run('ss', ['-Hltnp', `sport = :${port}`], options);
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout ?? '');
  return { asked, ...(match && { holder: { command: match[1]!, pid: Number(match[2]) } }) };
}

/** `lsof -Fpc` prints one field a line: `p4242`, then `cnginx`. */
async function listenerFromLsof(port: number, options: PortHolderOptions): Promise<{ asked: string; holder?: PortHolder }> {
  const { asked, stdout } = await run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], options);
  const pid = /^p(\d+)$/m.exec(stdout ?? '')?.[1];
  const command = /^c(.+)$/m.exec(stdout ?? '')?.[1];
  return { asked, ...(pid && { holder: { pid: Number(pid), ...(command && { command }) } }) };
}
