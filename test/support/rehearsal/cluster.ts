import type { Server as TcpServer } from 'node:net';
import { parse } from 'yaml';
import type { ClusterToolName } from '../../../helpers/provision/cluster-tools.ts';
import type { ClusterRunner, CommandResult, PortForward, RunOptions } from '../../../helpers/provision/runner.ts';
import { FakeCluster } from '../fake-cluster.ts';
import type { SimMesh } from '../mesh-sim/mesh.ts';
import { SimRunner } from '../mesh-sim/runner.ts';
import { analyzeJson } from '../istioctl-outputs.ts';
import { relayTo } from '../stand-ins/relay.ts';
import { serveStandIns, type StandInServer } from '../stand-ins/forwarding.ts';

/**
 * The cluster of a dress rehearsal: what `kubectl`, `helm`, `kind` and `docker` find when the real command runs
 * against the stand-in executables (test/support/stand-ins/forwarding.ts), which pass every call to this
 * server. Provisioning (Helm releases and their values, applied manifests, Deployments, the traffic generator's
 * CronJob) is kept by the FakeCluster the provisioning tests use; the Istio objects, the exec into the client
 * pods and istio-proxy, and so the whole data path, go to the simulated mesh (SimRunner, the seam its step tests
 * use). A port-forward leads to the simulated gateway, to a real Prometheus, or to an add-on double.
 */
export interface RehearsalClusterOptions {
  sim: SimMesh;
  /** The pinned versions each stand-in reports (fixtures/cluster/cluster-tools.yaml), so the run uses them. */
  toolVersions: Record<ClusterToolName, string>;
  /** Where `kubectl port-forward -n <namespace> <target>` leads, by "<namespace>/<target>". */
  forwards: Record<string, string>;
  /** Which Deployments each chart brings (the provisioning waits ask for them). */
  chartDeployments: Record<string, string[]>;
  /**
   * Where a kind node's published ports lead, by container port: `kind create cluster` then listens on each
   * extraPortMapping's host address and port and relays there, as Docker does for the node container it starts.
   */
  nodePorts?: Record<number, string>;
}

/** extraPortMappings of a kind cluster configuration (kind's v1alpha4 Cluster): what Docker publishes. */
interface PortMapping {
  containerPort: number;
  hostPort: number;
  listenAddress?: string;
}

export class RehearsalCluster implements ClusterRunner {
  readonly provisioning: FakeCluster;
  readonly mesh: SimRunner;

  constructor(private readonly options: RehearsalClusterOptions) {
    this.provisioning = new FakeCluster(options.chartDeployments);
    this.mesh = new SimRunner(options.sim);
  }

  /** The host ports the kind node publishes while its cluster exists. */
  private readonly published: TcpServer[] = [];

  async run(tool: ClusterToolName, args: string[], options: RunOptions): Promise<CommandResult> {
    const version = this.reportedVersion(tool, args);
    if (version !== undefined) return { exitCode: 0, stdout: version, stderr: '' };
    if (tool === 'kind' && args[0] === 'create') {
      const created = await this.provisioning.run(tool, args, options);
      if (created.exitCode === 0) await this.publish(options.input ?? '');
      return created;
    }
    if (tool === 'kind' && args[0] === 'delete') await this.unpublish();
    // Istio's analyzers find nothing in the lab's configuration; proxy-status is the provisioning state's (every proxy SYNCED).
    if (tool === 'istioctl' && args[0] === 'analyze') return { exitCode: 0, stdout: analyzeJson([]), stderr: '' };
    if (tool === 'kubectl') {
      const [verb] = args;
      // The data path and the proxies' configuration belong to the simulated mesh.
      if (verb === 'exec') return this.mesh.run(tool, args, options);
      // Istio objects reach istiod (the simulation) and the API server (the provisioning state) alike.
      if (verb === 'apply' || verb === 'delete') {
        const istio = await this.mesh.run(tool, args, options);
        if (istio.exitCode !== 0) return istio;
      }
    }
    return this.provisioning.run(tool, args, options);
  }

  /** The version line each tool prints for the version check meshproof makes before it trusts a binary. */
  private reportedVersion(tool: ClusterToolName, args: string[]): string | undefined {
    const wanted = this.options.toolVersions[tool];
    if (tool === 'kubectl' && args[0] === 'version' && args.includes('--client')) return JSON.stringify({ clientVersion: { gitVersion: wanted } });
    // `helm version --template={{.Version}}` prints the version alone.
    if (tool === 'helm' && args[0] === 'version') return `${wanted}\n`;
    if (tool === 'kind' && args[0] === 'version') return `kind ${wanted} go1.25.0 linux/amd64\n`;
    // `istioctl version --remote=false` (istio/istio pkg/version/cobra.go, --short defaulted to true).
    if (tool === 'istioctl' && args[0] === 'version') return `client version: ${wanted}\n`;
    return undefined;
  }

  /** Listens where the configuration maps a node port to the host, and relays to what serves that node port. */
  private async publish(clusterConfig: string): Promise<void> {
    const config = parse(clusterConfig) as { nodes?: { extraPortMappings?: PortMapping[] }[] };
    for (const mapping of (config.nodes ?? []).flatMap((node) => node.extraPortMappings ?? [])) {
      const url = this.options.nodePorts?.[mapping.containerPort];
      if (!url) continue;
      const relay = relayTo(url);
      await new Promise<void>((resolve, reject) => {
        relay.once('error', reject);
        relay.listen(mapping.hostPort, mapping.listenAddress ?? '0.0.0.0', resolve);
      });
      this.published.push(relay);
    }
  }

  /** Closes the published ports, as deleting the node container does. */
  async unpublish(): Promise<void> {
    const relays = this.published.splice(0);
    await Promise.all(relays.map((relay) => new Promise<void>((resolve) => relay.close(() => resolve()))));
  }

  async portForward(namespace: string, target: string): Promise<PortForward> {
    const url = this.options.forwards[`${namespace}/${target}`];
    if (!url) throw new Error(`rehearsal: nothing to forward to for ${namespace}/${target}`);
    return { url, close: async () => {} };
  }
}

/**
 * The cluster on loopback, for the stand-in executables (test/support/stand-ins/forwarding.ts): each call is
 * answered as the tool would; POST /forward says where a port-forward leads (the port-forward stand-in itself
 * listens and relays, as kubectl does). Every call is kept, in order.
 */
export async function serveRehearsalCluster(cluster: RehearsalCluster): Promise<StandInServer> {
  const served = await serveStandIns(
    async ({ tool, args, stdin }) => {
      const result = await cluster.run(tool as ClusterToolName, args, { timeoutMs: 60_000, ...(stdin ? { input: stdin } : {}) });
      if (process.env.REHEARSAL_VERBOSE === '1') process.stderr.write(`  [cluster] ${tool} ${args.join(' ').slice(0, 160)} → ${result.exitCode}\n`);
      return result;
    },
    {
      '/forward': async (body) => {
        const { namespace, target } = JSON.parse(body) as { namespace: string; target: string };
        served.calls.push({ tool: 'kubectl', args: ['port-forward', '-n', namespace, target], stdin: '' });
        return JSON.stringify(await cluster.portForward(namespace, target).then(({ url }) => ({ url })));
      },
    },
  );
  return served;
}
