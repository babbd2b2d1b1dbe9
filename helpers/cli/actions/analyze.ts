import { baselineFiles } from '../../apply/feature-config.ts';
import type { MeshproofConfig } from '../../config/config.ts';
import { resolveDataPath } from '../../config/data-file.ts';
import { featureFixtures, featureNames } from '../../config/features.ts';
import { judgeAnalysis, parseAnalysis, type AnalysisVerdict } from '../../judge/analysis.ts';
import { clusterToolOptions } from '../../provision/cluster.ts';
import { ensureClusterTool } from '../../provision/cluster-tools.ts';
import { commandLine, runOrFail, ToolRunner } from '../../provision/runner.ts';

/** `meshproof plan --analyze`: Istio's own analyzers on the feature files, offline. */

/**
 * Analyzed with each feature's files, so that their references resolve as on the cluster: the namespaces, the
 * workloads and Services, and the baseline routing. A later file's object replaces an earlier one of the same
 * kind and name, as an apply does (istio/istio release-1.31 pilot/pkg/config/file/store.go KubeSource.ApplyContent),
 * so the feature's own reviews DestinationRule is the one analyzed.
 */
export const analysisContextFiles = ['fixtures/bookinfo/namespace.yaml', 'fixtures/bookinfo/bookinfo.yaml', 'fixtures/workloads/test-clients.yaml', ...baselineFiles];

/** `istioctl analyze --use-kube=false` of every feature's files (the lab's, as written), with the installed release's istioctl. */
export async function analyzeFeatureFiles(config: MeshproofConfig, log: (line: string) => void): Promise<{ feature: string; verdict: AnalysisVerdict }[]> {
  const istioctl = await ensureClusterTool('istioctl', clusterToolOptions(config, log));
  // No cluster: no kubeconfig and no context are passed, and the other tools are never called.
  const runner = new ToolRunner({ kind: '/bin/false', helm: '/bin/false', kubectl: '/bin/false', istioctl: istioctl.path }, { kubeconfig: undefined, context: '' });
  const verdicts: { feature: string; verdict: AnalysisVerdict }[] = [];
  for (const feature of featureNames.filter((f) => featureFixtures[f].length > 0)) {
    const files = featureFixtures[feature];
    const args = ['analyze', '--use-kube=false', '-o', 'json', ...[...analysisContextFiles, ...files].map((file) => resolveDataPath(file))];
    const { stdout } = await runOrFail(runner, 'istioctl', args, { timeoutMs: config.timeouts.istioctl });
    verdicts.push({ feature, verdict: judgeAnalysis(files.join(' + '), parseAnalysis(commandLine('istioctl', args), stdout)) });
  }
  return verdicts;
}
