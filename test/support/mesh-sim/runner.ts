import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../helpers/config/manifests.ts';
import type { ClusterToolName } from '../../../helpers/provision/cluster-tools.ts';
import type { ClusterRunner, CommandResult, PortForward, RunOptions } from '../../../helpers/provision/runner.ts';
import type { SimMesh } from './mesh.ts';

/**
 * The ClusterRunner seam in front of the simulated mesh: the kubectl calls a feature suite makes — apply and
 * delete of Istio objects, exec into the client pods, `pilot-agent request` in an istio-proxy container — land
 * on the simulation, so the production code above the seam (applyFeatureConfig, restoreBaseline, podExec, the
 * proxy-config gate) runs unchanged. Every call is kept for the test to read.
 */
export class SimRunner implements ClusterRunner {
  readonly calls: { tool: ClusterToolName; args: string[] }[] = [];

  constructor(private readonly sim: SimMesh) {}

  async run(tool: ClusterToolName, args: string[], options: RunOptions): Promise<CommandResult> {
    this.calls.push({ tool, args });
    const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
    if (tool !== 'kubectl') return { exitCode: 1, stdout: '', stderr: `mesh-sim: no ${tool} here` };
    const objects = () => parseAllDocuments(options.input ?? '').map((d) => d.toJS() as KubeObject).filter(Boolean);
    const [verb] = args;
    if (verb === 'apply') {
      this.sim.apply(objects().filter((o) => o.apiVersion.includes('istio.io')));
      return ok();
    }
    if (verb === 'delete') {
      this.sim.delete(objects());
      return ok();
    }
    if (verb === 'exec') {
      const namespace = args[args.indexOf('-n') + 1];
      const pod = args[args.indexOf('-n') + 2]!.replace(/^deploy\//, '');
      const container = args[args.indexOf('-c') + 1];
      const command = args.slice(args.indexOf('--') + 1);
      if (container === 'istio-proxy' && command[0] === 'pilot-agent') return ok(this.sim.configDump(pod, command[3]!));
      if (namespace === 'meshproof' && pod === 'mesh-client') return this.sim.meshClient(command);
      if (namespace === 'meshproof-legacy' && pod === 'legacy-client') return this.sim.legacyClient(command);
    }
    if (verb === 'get' || verb === 'logs') return ok(`(mesh-sim: ${args.join(' ')})\n`);
    return { exitCode: 1, stdout: '', stderr: `mesh-sim: unexpected kubectl ${args.join(' ')}` };
  }

  async portForward(): Promise<PortForward> {
    throw new Error('mesh-sim: the suites hold no port-forwards of their own');
  }
}
