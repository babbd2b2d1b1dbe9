import * as istioNetworking from '@kubernetes-models/istio/networking.istio.io/v1';
import * as istioNetworkingAlpha from '@kubernetes-models/istio/networking.istio.io/v1alpha3';
import * as istioSecurity from '@kubernetes-models/istio/security.istio.io/v1';
import * as istioTelemetry from '@kubernetes-models/istio/telemetry.istio.io/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as core from 'kubernetes-models/v1';
import { describeObject, goDuration, ManifestError, type FixtureObject } from './manifests.ts';

/**
 * The schema of every kind the fixtures use, from the kubernetes-models packages (Kubernetes' OpenAPI and Istio's
 * CRDs): what plan, provisioning and every apply check an object against before it reaches a cluster. Apart from
 * manifests.ts because the packages are several hundred modules: only the commands that validate load them.
 */

type Model = { apiVersion: string; kind: string; new (data: unknown): { validate(): void } };

/**
 * apiVersion/kind → model class, from every class the model packages export for the kinds meshproof uses. Istio
 * serves EnvoyFilter only as networking.istio.io/v1alpha3 (it never reached v1), hence that group too.
 */
const models = new Map<string, Model>();
for (const group of [core, apps, batch, istioNetworking, istioNetworkingAlpha, istioSecurity, istioTelemetry]) {
  for (const exported of Object.values(group)) {
    const model = exported as unknown as Model;
    if (typeof exported === 'function' && typeof model.apiVersion === 'string' && typeof model.kind === 'string') {
      models.set(`${model.apiVersion}/${model.kind}`, model);
    }
  }
}

/**
 * Istio parses its duration fields itself (CEL `duration()` in the CRDs), and the generated schemas only say
 * "string": "3 seconds" or "3" would pass them and be refused by the cluster. These are the duration fields
 * meshproof's fixtures use (istio/api networking/v1alpha3 virtual_service.proto and destination_rule.proto).
 */
const istioDurationFields = new Set([
  'timeout',
  'perTryTimeout',
  'fixedDelay',
  'interval',
  'baseEjectionTime',
  'connectTimeout',
  'idleTimeout',
  'maxConnectionDuration',
  'time',
]);
function checkIstioDurations(value: unknown, at: string[], problems: string[]): void {
  if (Array.isArray(value)) value.forEach((item, i) => checkIstioDurations(item, [...at, String(i)], problems));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (istioDurationFields.has(key) && typeof child === 'string' && !goDuration.test(child)) {
        problems.push(`${[...at, key].join('.')}: "${child}" is not a duration such as 500ms, 3s or 1m`);
      }
      checkIstioDurations(child, [...at, key], problems);
    }
  }
}

/** Validates one object against the schema of its kind; the error names the file, the object and the field. */
export function validateObject({ file, object }: FixtureObject): void {
  const model = models.get(`${object.apiVersion}/${object.kind}`);
  const label = describeObject(object);
  if (!model) {
    throw new ManifestError(file, label, `meshproof has no schema for ${object.apiVersion} ${object.kind}; known: ${[...models.keys()].filter((k) => !k.endsWith('List')).join(', ')}`);
  }
  const problems: string[] = [];
  try {
    new model(object).validate();
  } catch (error) {
    const ajvErrors = (error as { errors?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] }).errors;
    if (!ajvErrors) throw error;
    for (const e of ajvErrors) {
      const field = e.instancePath.split('/').filter(Boolean).join('.') || '(the object)';
      const allowed = Array.isArray(e.params?.allowedValues) ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : '';
      problems.push(`${field}: ${e.message ?? 'is invalid'}${allowed}`);
    }
  }
  if (object.apiVersion.includes('istio.io')) checkIstioDurations(object.spec, ['spec'], problems);
  if (problems.length > 0) throw new ManifestError(file, label, problems.join('; '));
}

