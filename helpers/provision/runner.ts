import { execa, type ResultPromise } from 'execa';
import type { ClusterToolName } from './cluster-tools.ts';
import { errorText, MeshproofError } from '../errors.ts';
import { pollUntil } from '../wait/poll.ts';
import { formatDuration } from '../config/timeouts.ts';
import { parseToolJson } from './tool-json.ts';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin (manifests for `kubectl apply -f -`, the kind config for `--config -`). */
  input?: string;
  timeoutMs: number;
}

/** kubectl could not listen on the local port it was given: something took it (kubectl says so and exits). */
export class LocalPortTakenError extends MeshproofError {
  constructor(
    readonly port: number,
    kubectlSaid: string,
  ) {
    super(`kubectl port-forward could not listen on 127.0.0.1:${port}: ${kubectlSaid}`);
  }
}

export interface PortForward {
  /** http://127.0.0.1:<local port> */
  url: string;
  close(): Promise<void>;
}

/**
 * The seam between meshproof and the cluster: every kind, helm, kubectl and istioctl call goes through `run`, and every
 * port-forward through `portForward`. Production runs the pinned binaries; the self-tests record the calls.
 */
export interface ClusterRunner {
  run(tool: ClusterToolName, args: string[], options: RunOptions): Promise<CommandResult>;
  /** Forwards `localPort` on 127.0.0.1 (or a free port the system picks, without one) to `remotePort` of `target`. */
  portForward(namespace: string, target: string, remotePort: number, timeoutMs: number, localPort?: number): Promise<PortForward>;
}

/** A command as messages name it: `helm list -n istio-system -o json`. */
export function commandLine(tool: string, args: readonly string[]): string {
  return [tool, ...args].join(' ');
}

/**
 * A tool that could not be started at all (exit code 127: not found or not executable, as the runner and a shell
 * report it): no retry helps, so a wait stops at once with this instead of polling until its deadline.
 */
export function missingToolError(tool: ClusterToolName, result: CommandResult): MeshproofError | undefined {
  if (result.exitCode !== 127) return undefined;
  return new MeshproofError(
    `${tool} could not be run: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ') || 'not found'}`,
    `meshproof runs the ${tool} pinned in fixtures/cluster/cluster-tools.yaml (istioctl: the installed Istio release's own), ` +
      `from PATH or its tools cache (MESHPROOF_TOOLS_DIR); put that version on PATH, or let meshproof download it.`,
  );
}

/** Runs a command and fails with its output when it exits non-zero: for calls whose failure ends the phase. */
export async function runOrFail(runner: ClusterRunner, tool: ClusterToolName, args: string[], options: RunOptions): Promise<CommandResult> {
  const result = await runner.run(tool, args, options);
  const missing = missingToolError(tool, result);
  if (missing) throw missing;
  if (result.exitCode !== 0) {
    const output = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    throw new MeshproofError(`\`${commandLine(tool, args)}\` failed (exit code ${result.exitCode}):\n${output}`);
  }
  return result;
}

/**
 * runOrFail, then its output read by parseToolJson. `ifNothingPrinted` is the JSON an empty output stands for
 * (helm prints nothing instead of `[]` or `null` in some versions), when that is not an error.
 */
export async function runOrFailJson(
  runner: ClusterRunner,
  tool: ClusterToolName,
  args: string[],
  options: RunOptions & { ifNothingPrinted?: string },
): Promise<unknown> {
  const result = await runOrFail(runner, tool, args, options);
  return parseToolJson(commandLine(tool, args), result.stdout || (options.ifNothingPrinted ?? ''));
}

/**
 * The API server's Kubernetes version ("1.35.2"), as `kubectl version -o json` reports it: the one way meshproof
 * reads it, in preflight, provisioning and the mesh-ready suite. A managed cluster's build suffix
 * (v1.35.2-gke.1200) is dropped, because Istio's support table names plain versions.
 */
export async function kubernetesServerVersion(runner: ClusterRunner, timeoutMs: number): Promise<string> {
  const printed = await runOrFailJson(runner, 'kubectl', ['version', '-o', 'json'], { timeoutMs });
  const gitVersion = (printed as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion;
  if (!gitVersion) throw new MeshproofError(`kubectl version reports no server version: ${JSON.stringify(printed).slice(0, 200)}`);
  return gitVersion.replace(/^v/, '').replace(/[-+].*$/, '');
}

export interface ClusterAccess {
  /** The kubeconfig file; undefined means the tools' default (~/.kube/config or $KUBECONFIG). */
  kubeconfig: string | undefined;
  context: string;
}

/** The production runner: the pinned binaries, always pointed at the run's kubeconfig and context. */
export class ToolRunner implements ClusterRunner {
  private readonly providing = new Map<ClusterToolName, Promise<string>>();

  /**
   * `provide` finds a tool whose binary is left empty the first time it is called (the lab commands that never
   * call istioctl never download it).
   */
  constructor(
    readonly binaries: Record<ClusterToolName, string>,
    private readonly access: ClusterAccess,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly provide: Partial<Record<ClusterToolName, () => Promise<string>>> = {},
  ) {}

  private async binary(tool: ClusterToolName): Promise<string> {
    const provide = this.provide[tool];
    if (this.binaries[tool] || !provide) return this.binaries[tool];
    if (!this.providing.has(tool)) this.providing.set(tool, provide());
    this.binaries[tool] = await this.providing.get(tool)!;
    return this.binaries[tool];
  }

  /**
   * kind takes no context; helm names its own differently; istioctl takes kubectl's --kubeconfig and --context
   * (istio/istio release-1.31 istioctl/pkg/cli/option.go AddRootFlags). Without a context (an existing cluster
   * without MESHPROOF_CONTEXT, or `plan --analyze` analyzing files offline) the flag is left out rather than
   * passed empty: the tools then use the kubeconfig's current-context.
   */
  accessFlags(tool: ClusterToolName): string[] {
    const kubeconfig = this.access.kubeconfig ? ['--kubeconfig', this.access.kubeconfig] : [];
    const context = this.access.context ? [tool === 'helm' ? '--kube-context' : '--context', this.access.context] : [];
    return tool === 'kind' ? [] : [...kubeconfig, ...context];
  }

  async run(tool: ClusterToolName, args: string[], options: RunOptions): Promise<CommandResult> {
    const result = await execa(await this.binary(tool), [...this.accessFlags(tool), ...args], {
      input: options.input,
      stdin: options.input === undefined ? 'ignore' : undefined,
      timeout: options.timeoutMs,
      reject: false,
      env: this.env,
    });
    if (result.timedOut) {
      return { exitCode: 124, stdout: result.stdout, stderr: `${result.stderr}\n(${tool} did not finish within ${formatDuration(options.timeoutMs)})` };
    }
    if (result.failed && result.exitCode === undefined) {
      return { exitCode: 127, stdout: '', stderr: errorText(result) };
    }
    return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
  }

  /**
   * `kubectl port-forward` on loopback, at `localPort` or, without one, a port the system picks. It prints
   * "Forwarding from 127.0.0.1:<port> -> <remote>" once it listens. A kubectl that exits first has failed (a
   * Service that does not exist, a cluster that does not answer): that is said at once with what it printed, never
   * waited out.
   */
  async portForward(namespace: string, target: string, remotePort: number, timeoutMs: number, localPort?: number): Promise<PortForward> {
    const what = `kubectl port-forward to ${namespace}/${target}:${remotePort}`;
    const child: ResultPromise = execa(
      this.binaries.kubectl,
      [...this.accessFlags('kubectl'), 'port-forward', '-n', namespace, target, `${localPort ?? ''}:${remotePort}`, '--address', '127.0.0.1'],
      { env: this.env, reject: false, buffer: false, stdin: 'ignore' },
    );
    const close = async () => {
      child.kill('SIGTERM');
      await child.catch(() => undefined);
    };
    let printed = '';
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let forwarding = false;
        // Read for as long as kubectl runs, or its pipe fills with "Handling connection for …" and it blocks; kept
        // only until it forwards, as nothing it says after that is read.
        const onOutput = (chunk: Buffer) => {
          if (forwarding) return;
          printed += chunk.toString();
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(printed);
          if (!match) return;
          forwarding = true;
          resolve(Number(match[1]));
        };
        child.stdout?.on('data', onOutput);
        child.stderr?.on('data', onOutput);
        // 'close', not 'exit': by then everything kubectl printed has been read.
        child.once('close', () => {
          // client-go's port forwarder, when it could not listen (kubernetes staging/src/k8s.io/client-go/tools/portforward/portforward.go).
          if (localPort && /unable to listen on any of the requested ports/.test(printed)) reject(new LocalPortTakenError(localPort, printed.trim()));
          else reject(new MeshproofError(`${what} exited: ${printed.trim() || 'it printed nothing'}`));
        });
        deadline.addEventListener('abort', () =>
          reject(new MeshproofError(`${what} did not start forwarding within ${formatDuration(timeoutMs)}; it printed: ${printed.trim() || 'nothing'}`)),
        );
      });
      return { url: `http://127.0.0.1:${port}`, close };
    } catch (error) {
      await close();
      throw error;
    }
  }
}
