import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../helpers/config/manifests.ts';
import type { CommandResult } from '../../../helpers/provision/runner.ts';
import { analyzeJson, labProxies, proxyStatusJson } from '../istioctl-outputs.ts';
import { configDump } from '../mesh-sim/config-dump.ts';
import { IstioConfig } from '../mesh-sim/istio-config.ts';
import type { StandInCall } from './forwarding.ts';

/**
 * The cluster of nested runs of the suites' mechanics (test/support/nested-run.ts): one whose istiod pushes every
 * applied Istio object to every proxy at once. It answers the calls of the stand-in kubectl and istioctl
 * (test/support/stand-ins/forwarding.ts), so everything above the process boundary (apply, the proxy-config gate,
 * restore, the failure bundle) runs unchanged. kubectl:
 *  - `apply … -f -` / `delete … -f -`: keeps (or drops) the Istio objects of stdin;
 *  - `exec … -c istio-proxy -- pilot-agent request GET <path>`: the simulated mesh's config dump of those objects
 *    (test/support/mesh-sim/config-dump.ts);
 *  - `get`, `logs`: a line saying what was asked (the failure bundle's commands);
 *  - anything else: exit code 1, as kubectl does for what it cannot do.
 * istioctl, with output shaped as test/support/istioctl-outputs.ts says:
 *  - `version --remote=false`: "client version: <the run's Istio version>";
 *  - `analyze -n <ns> -o json`: no message (`[]`, as istioctl prints it);
 *  - `proxy-status -o json`: the lab's proxies, all SYNCED; `proxy-status --verbosity 1`: the same as a table;
 *  - `proxy-config routes|clusters deployment/<name>.<ns> -o json`: the routes or clusters of the objects applied;
 *  - anything else: exit code 1.
 */
export class InstantIstio {
  private readonly objects = new Map<string, KubeObject>();

  constructor(private readonly istioVersion: string) {}

  answer({ tool, args, stdin }: StandInCall): CommandResult {
    return tool === 'istioctl' ? this.istioctl(args) : this.kubectl(args, stdin);
  }

  private kubectl(args: string[], stdin: string): CommandResult {
    const [verb] = args;
    if (verb === 'apply' || verb === 'delete') {
      for (const object of istioObjectsOf(stdin)) {
        if (verb === 'apply') this.objects.set(keyOf(object), object);
        else this.objects.delete(keyOf(object));
      }
      return ok('');
    }
    if (verb === 'exec' && args.includes('pilot-agent')) return ok(configDump(this.config(), args.at(-1)!));
    if (verb === 'get' || verb === 'logs') return ok(`(stand-in kubectl: ${args.join(' ')})\n`);
    return { exitCode: 1, stdout: '', stderr: `stand-in kubectl: cannot ${args.join(' ')}\n` };
  }

  private istioctl(args: string[]): CommandResult {
    const [verb, what] = args;
    if (verb === 'version') return ok(`client version: ${this.istioVersion}\n`);
    if (verb === 'analyze') return ok(analyzeJson([]));
    if (verb === 'proxy-status' && args.includes('json')) return ok(proxyStatusJson(labProxies));
    if (verb === 'proxy-status') {
      const rows = labProxies.map(({ id }) => `${id}     Kubernetes     SYNCED (3m2s)     SYNCED (3m2s)     SYNCED (3m1s)     SYNCED (3m2s)     istiod-6c9d8f7b5-x4k2p     ${this.istioVersion}`);
      return ok(['NAME     CLUSTER     CDS     LDS     EDS     RDS     ISTIOD     VERSION', ...rows, ''].join('\n'));
    }
    if (verb === 'proxy-config' && (what === 'routes' || what === 'clusters')) {
      const resource = what === 'routes' ? 'dynamic_route_configs' : 'dynamic_active_clusters';
      const { configs } = JSON.parse(configDump(this.config(), `config_dump?resource=${resource}`)) as { configs: unknown[] };
      return ok(`${JSON.stringify(configs, null, 4)}\n`);
    }
    return { exitCode: 1, stdout: '', stderr: `stand-in istioctl: cannot ${args.join(' ')}\n` };
  }

  private config(): IstioConfig {
    return new IstioConfig([...this.objects.values()]);
  }
}

const ok = (stdout: string): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
const keyOf = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
const istioObjectsOf = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as KubeObject)
    .filter((o) => o?.apiVersion?.includes('istio.io'));
