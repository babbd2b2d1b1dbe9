import { analysisCheckId, type FeatureName } from '../../config/features.ts';
import type { AnalysisMessage } from '../../judge/analysis.ts';
import type { Expectation } from '../../judge/expectation.ts';
import type { Recording } from '../../record/recording.ts';
import { checkOf, recordingOf, type StepEnv } from '../step-env.ts';

/** A feature's istio-analysis check (helpers/config/features.ts): the namespace analyzed, and the recording's title. */
export const analysisCheckOf = (feature: FeatureName) => checkOf(feature, analysisCheckId as never, 'istio-analysis');

/**
 * What `istioctl analyze` printed for the namespace with a feature applied, as the recording of the feature's
 * `istio-analysis` check: the messages kept whole, so `meshproof judge` decides again from them alone.
 */
export function analysisRecording(env: StepEnv, feature: FeatureName, messages: AnalysisMessage[]): Recording {
  const check = analysisCheckOf(feature);
  const expectation: Expectation = { judge: 'istio-analysis', description: check.title, namespace: check.namespace };
  return recordingOf(env, feature, check.id, check.title, expectation, [], [], { analysis: messages });
}
