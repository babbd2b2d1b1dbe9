/**
 * The `istioctl` of nested runs, answering from the same state as the kubectl stand-in (test/support/stand-ins/
 * kubectl.ts bundles this module and runs it when it is called as `istioctl`), with output shaped as
 * test/support/istioctl-outputs.ts says:
 *  - `version --remote=false`: "client version: <MESHPROOF_ISTIO_VERSION or the newest supported>";
 *  - `analyze -n <ns> -o json`: the messages in $STAND_IN_ANALYSIS (a JSON file), else none (`[]`);
 *  - `proxy-status -o json`: the lab's proxies, all SYNCED; `proxy-status --verbosity 1`: the same as a table;
 *  - `proxy-config routes|clusters deployment/<name>.<ns> -o json`: the simulated mesh's routes or clusters for
 *    the Istio objects applied so far (test/support/mesh-sim/config-dump.ts);
 *  - anything else: exit code 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { KubeObject } from '../../../helpers/config/manifests.ts';
import { analyzeJson, labProxies, proxyStatusJson, type SimAnalysisMessage } from '../istioctl-outputs.ts';
import { configDump } from '../mesh-sim/config-dump.ts';
import { IstioConfig } from '../mesh-sim/istio-config.ts';

export function istioctlStandIn(args: string[], env: NodeJS.ProcessEnv): { exitCode: number; stdout: string; stderr: string } {
  const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });
  const [verb, what] = args;
  if (verb === 'version') return ok(`client version: ${env.MESHPROOF_ISTIO_VERSION ?? '1.31.1'}\n`);
  if (verb === 'analyze') {
    const messages = env.STAND_IN_ANALYSIS ? (JSON.parse(readFileSync(env.STAND_IN_ANALYSIS, 'utf8')) as SimAnalysisMessage[]) : [];
    return ok(analyzeJson(messages));
  }
  if (verb === 'proxy-status' && args.includes('json')) return ok(proxyStatusJson(labProxies));
  if (verb === 'proxy-status') {
    const rows = labProxies.map(({ id }) => `${id}     Kubernetes     SYNCED (3m2s)     SYNCED (3m2s)     SYNCED (3m1s)     SYNCED (3m2s)     istiod-6c9d8f7b5-x4k2p     1.31.1`);
    return ok(['NAME     CLUSTER     CDS     LDS     EDS     RDS     ISTIOD     VERSION', ...rows, ''].join('\n'));
  }
  if (verb === 'proxy-config' && (what === 'routes' || what === 'clusters')) {
    const stateFile = env.STAND_IN_STATE ?? '';
    const state = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as KubeObject[]) : [];
    const resource = what === 'routes' ? 'dynamic_route_configs' : 'dynamic_active_clusters';
    const { configs } = JSON.parse(configDump(new IstioConfig(state), `config_dump?resource=${resource}`)) as { configs: unknown[] };
    return ok(`${JSON.stringify(configs, null, 4)}\n`);
  }
  return { exitCode: 1, stdout: '', stderr: `stand-in istioctl: cannot ${args.join(' ')}\n` };
}
