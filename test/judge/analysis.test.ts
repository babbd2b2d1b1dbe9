import { describe, expect, it } from 'vitest';
import { analysisCheckId, featureCatalog, featureNames, checkSpec } from '../../helpers/config/features.ts';
import { fromRoot } from '../../helpers/config/data-file.ts';
import { judgeAnalysis, parseAnalysis } from '../../helpers/judge/analysis.ts';
import { judgeExpectation, judgeRecording } from '../../helpers/judge/rejudge.ts';
import { strictProblems } from '../../helpers/judge/strict.ts';
import { parseRecording, readRecording, type Expectation } from '../../helpers/record/recording.ts';
import { MeshproofError } from '../../helpers/errors.ts';
import { analysisSamples, analyzeJson } from '../support/istioctl-outputs.ts';

const command = 'istioctl analyze -n bookinfo -o json';

describe('istioctl analyze, judged', () => {
  it('passes a namespace without messages (istioctl prints [])', () => {
    const verdict = judgeAnalysis('namespace bookinfo', parseAnalysis(command, analyzeJson([])));
    expect(verdict).toMatchObject({ pass: true, sentence: 'istioctl analyze found no error in namespace bookinfo (0 errors, 0 warnings)', warningLines: [] });
  });

  it('passes with a warning, listing it for the report, and ignores Info', () => {
    const printed = analyzeJson([analysisSamples.unknownDestinationRuleHost, analysisSamples.portNaming]);
    const verdict = judgeAnalysis('namespace bookinfo', parseAnalysis(command, printed));
    expect(verdict.pass).toBe(true);
    expect(verdict.sentence).toBe('istioctl analyze found no error in namespace bookinfo (0 errors, 1 warning)');
    expect(verdict.warningLines).toEqual([
      'IST0174 on DestinationRule bookinfo/reviews-elsewhere: The host reviews.default.svc.cluster.local defined in the DestinationRule does not match any services in the mesh.',
    ]);
  });

  it('fails on an Error, naming its code, object and message', () => {
    const printed = analyzeJson([analysisSamples.subsetNotFound, analysisSamples.unknownDestinationRuleHost]);
    const verdict = judgeAnalysis('namespace bookinfo', parseAnalysis(command, printed));
    expect(verdict.pass).toBe(false);
    expect(verdict.sentence).toBe(
      'istioctl analyze found 1 error, 1 warning in namespace bookinfo; no error expected: IST0101 on VirtualService bookinfo/reviews: Referenced host+subset in destinationrule not found: "reviews+v4"',
    );
  });

  it('names the file and line of a message about a file (--use-kube=false)', () => {
    const printed = analyzeJson([{ ...analysisSamples.subsetNotFound, reference: 'fixtures/features/01-traffic-shifting.yaml:17' }]);
    expect(judgeAnalysis('fixtures/features/01-traffic-shifting.yaml', parseAnalysis(command, printed)).sentence).toContain(
      'IST0101 on VirtualService bookinfo/reviews (fixtures/features/01-traffic-shifting.yaml:17)',
    );
  });

  it('refuses what is not its JSON, showing the start of it', () => {
    expect(() => parseAnalysis(command, 'Error: unknown flag: --use-kube\n')).toThrow(MeshproofError);
    expect(() => parseAnalysis(command, 'Error: unknown flag')).toThrow(/printed something that is not JSON: "Error: unknown flag"/);
    expect(() => parseAnalysis(command, '')).toThrow(/printed nothing where JSON was expected/);
    expect(() => parseAnalysis(command, '[{"code":"IST0101","level":"Fatal","message":"x"}]')).toThrow(/0\.level/);
  });
});

describe('istioctl analyze, as a recorded verdict (judge istio-analysis)', () => {
  const expectation: Expectation = { judge: 'istio-analysis', description: 'no error in bookinfo', namespace: 'bookinfo' };
  const broken = () => readRecording(fromRoot('docs', 'recordings', 'verdicts', 'traffic-shifting.istio-analysis.broken.json'));

  it("is judged from the messages kept in the recording's analysis, with the same sentence as the step's", () => {
    const messages = parseAnalysis(command, analyzeJson([analysisSamples.subsetNotFound, analysisSamples.unknownDestinationRuleHost, analysisSamples.portNaming]));
    const verdict = judgeExpectation(expectation, [], [], { analysis: messages });
    expect(verdict).toEqual({ pass: false, judge: 'istio-analysis', figures: { errors: 1, warnings: 1, info: 1 }, sentence: judgeAnalysis('namespace bookinfo', messages).sentence });
    expect(judgeExpectation(expectation, [], [], { analysis: [] }).pass).toBe(true);
  });

  it('fails, never passes, when no messages were kept; a recording without them is invalid', () => {
    expect(judgeExpectation(expectation, [], []).sentence).toBe('no error in bookinfo: no istioctl analyze messages were recorded for namespace bookinfo');
    const { analysis: _dropped, ...without } = broken();
    expect(() => parseRecording(without, 'no-analysis.json')).toThrow(/expectation reads istioctl analyze's messages, which the recording does not keep \(no analysis\)/);
  });

  it('is a check of every feature with files, one id for all, held by --strict to the namespace analyzed', () => {
    const withFiles = featureNames.filter((f) => featureCatalog[f].fixtures.length > 0);
    expect(withFiles.filter((f) => checkSpec(`${f}/${analysisCheckId}`)?.judge !== 'istio-analysis')).toEqual([]);
    expect(featureNames.filter((f) => featureCatalog[f].fixtures.length === 0 && checkSpec(`${f}/${analysisCheckId}`))).toEqual([]);
    const recording = broken();
    expect(judgeRecording(recording).pass).toBe(false);
    expect(strictProblems(recording, 1e-4)).toEqual([]);
    expect(strictProblems({ ...recording, expectation: { ...expectation, namespace: 'default' } }, 1e-4)).toEqual(['expectation.namespace is "default"; the catalogue says "bookinfo"']);
  });
});
