import { execa } from 'execa';

/**
 * What the container engine knows about kind's nodes and the host ports containers publish: enough to tell
 * whether the lab's cluster exists and runs without downloading kind, and whether a taken host port is the
 * lab's own.
 */

/** kind labels every node container with its cluster's name (kubernetes-sigs/kind pkg/cluster/internal/providers/docker/constants.go). */
export const kindClusterLabel = 'io.x-k8s.kind.cluster';

export interface PublishedPort {
  hostAddress: string;
  /** First and last host port (the same unless the engine published a range). */
  hostPorts: [number, number];
  containerPort: number;
  protocol: string;
}

export interface EngineContainer {
  name: string;
  /** running, exited, created, paused… as `{{.State}}` prints it; undefined where it was not asked. */
  state?: string;
  ports: PublishedPort[];
}

/**
 * Docker's and Podman's `{{.Ports}}`: "127.0.0.1:8080->30080/tcp, 127.0.0.1:39753->6443/tcp", IPv6 hosts in
 * brackets ("[::]:8080->80/tcp"), ranges as "0.0.0.0:8000-8001->8000-8001/tcp"; ports that are only exposed
 * ("6443/tcp", no arrow) are not published and are left out.
 */
export function parsePublishedPorts(text: string): PublishedPort[] {
  const ports: PublishedPort[] = [];
  for (const entry of text.split(',').map((e) => e.trim())) {
    const match = /^(.*):(\d+)(?:-(\d+))?->(\d+)(?:-\d+)?\/(\w+)$/.exec(entry);
    if (!match) continue;
    const [, hostAddress = '', first, last, containerPort, protocol = 'tcp'] = match;
    ports.push({ hostAddress: hostAddress.replace(/^\[(.*)\]$/, '$1'), hostPorts: [Number(first), Number(last ?? first)], containerPort: Number(containerPort), protocol });
  }
  return ports;
}

export const publishes = (container: EngineContainer, hostPort: number) =>
  container.ports.some((p) => p.protocol === 'tcp' && hostPort >= p.hostPorts[0] && hostPort <= p.hostPorts[1]);

async function psLines(enginePath: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string[][]> {
  const command = `${enginePath.split('/').at(-1)} ${args.join(' ')}`;
  const result = await execa(enginePath, args, { env, reject: false, timeout: timeoutMs, stdin: 'ignore' });
  if (result.timedOut) throw new Error(`\`${command}\` did not answer in time`);
  if (result.exitCode !== 0) throw new Error(`\`${command}\` failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => line.split('\t'));
}

/**
 * The node containers of kind cluster `cluster`, stopped ones included: the query kind itself makes for `kind get
 * nodes` (ListNodes in pkg/cluster/internal/providers/{docker,podman}/provider.go), with their state and ports.
 */
export async function listKindNodes(enginePath: string, cluster: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<EngineContainer[]> {
  const lines = await psLines(enginePath, ['ps', '-a', '--filter', `label=${kindClusterLabel}=${cluster}`, '--format', '{{.Names}}\t{{.State}}\t{{.Ports}}'], env, timeoutMs);
  return lines.map(([name = '', state, ports = '']) => ({ name, state: state?.trim(), ports: parsePublishedPorts(ports) }));
}

/** Running containers that publish TCP `hostPort` (stopped ones hold no port). */
export async function containersPublishing(enginePath: string, hostPort: number, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<EngineContainer[]> {
  const lines = await psLines(enginePath, ['ps', '--format', '{{.Names}}\t{{.Ports}}'], env, timeoutMs);
  return lines.map(([name = '', ports = '']) => ({ name, ports: parsePublishedPorts(ports) })).filter((c) => publishes(c, hostPort));
}
