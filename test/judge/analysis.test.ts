import { describe, expect, it } from 'vitest';
import { judgeAnalysis, parseAnalysis } from '../../helpers/judge/analysis.ts';
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
