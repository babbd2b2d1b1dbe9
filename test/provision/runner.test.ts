import { describe, expect, it } from 'vitest';
import { MeshproofError } from '../../helpers/errors.ts';
import { commandLine, runOrFailJson, ToolRunner } from '../../helpers/provision/runner.ts';
import { parseToolJson } from '../../helpers/provision/tool-json.ts';
import { FakeCluster } from '../support/fake-cluster.ts';

describe('ToolRunner', () => {
  it("points kubectl and helm at the run's kubeconfig and context, and names no context when there is none", () => {
    const binaries = { kind: '/bin/false', helm: '/bin/false', kubectl: '/bin/false', istioctl: '/bin/false' };
    const named = new ToolRunner(binaries, { kubeconfig: '/home/me/.kube/lab', context: 'kind-meshproof' });
    expect(named.accessFlags('kubectl')).toEqual(['--kubeconfig', '/home/me/.kube/lab', '--context', 'kind-meshproof']);
    expect(named.accessFlags('helm')).toEqual(['--kubeconfig', '/home/me/.kube/lab', '--kube-context', 'kind-meshproof']);
    expect(named.accessFlags('istioctl')).toEqual(['--kubeconfig', '/home/me/.kube/lab', '--context', 'kind-meshproof']);
    expect(named.accessFlags('kind')).toEqual([]);
    const current = new ToolRunner(binaries, { kubeconfig: undefined, context: '' });
    expect(current.accessFlags('kubectl')).toEqual([]);
    expect(current.accessFlags('helm')).toEqual([]);
    expect(current.accessFlags('istioctl')).toEqual([]);
  });
});

describe('parseToolJson', () => {
  it('returns what the tool printed as JSON', () => {
    expect(parseToolJson('helm list -o json', '[{"name":"istiod"}]\n')).toEqual([{ name: 'istiod' }]);
  });

  it('names the command and shows the start of what it printed, cut at 200 characters', () => {
    const printed = `WARNING: Kubernetes configuration file is group-readable. This is insecure.\n${'x'.repeat(300)}`;
    const error = (() => {
      try {
        parseToolJson('helm list -n istio-system -o json', printed);
      } catch (e) {
        return e;
      }
    })() as MeshproofError;
    expect(error).toBeInstanceOf(MeshproofError);
    expect(error.message).toBe(`\`helm list -n istio-system -o json\` printed something that is not JSON: ${JSON.stringify(printed.slice(0, 200))}…`);
    expect(error.fix).toBe('Run `helm list -n istio-system -o json` yourself to see all it prints.');
  });

  it('says so when the tool printed nothing', () => {
    expect(() => parseToolJson('kubectl get pods -o json', ' \n')).toThrow('`kubectl get pods -o json` printed nothing where JSON was expected');
  });
});

describe('runOrFailJson', () => {
  it("reads a command's JSON, or what an empty output stands for", async () => {
    const cluster = new FakeCluster();
    await expect(runOrFailJson(cluster, 'kubectl', ['version', '-o', 'json'], { timeoutMs: 1_000 })).resolves.toMatchObject({ serverVersion: { gitVersion: 'v1.36.4' } });
    cluster.failures.set('helm list', { exitCode: 0, stdout: '', stderr: '' });
    await expect(runOrFailJson(cluster, 'helm', ['list', '-n', 'istio-system', '-o', 'json'], { timeoutMs: 1_000, ifNothingPrinted: '[]' })).resolves.toEqual([]);
  });

  it('names the whole command when its output is not JSON', async () => {
    const cluster = new FakeCluster();
    cluster.failures.set('kubectl version', { exitCode: 0, stdout: 'Client Version: v1.35.8\nServer Version: v1.36.4\n', stderr: '' });
    await expect(runOrFailJson(cluster, 'kubectl', ['version', '-o', 'json'], { timeoutMs: 1_000 })).rejects.toThrow(
      '`kubectl version -o json` printed something that is not JSON: "Client Version: v1.35.8\\nServer Version: v1.36.4"',
    );
    expect(commandLine('kubectl', ['version', '-o', 'json'])).toBe('kubectl version -o json');
  });
});
