import { describeObject, goDuration, ManifestError, type FixtureObject } from './manifests.ts';

/**
 * The schema of every kind the fixtures may use, from the kubernetes-models packages (Kubernetes' OpenAPI and Istio's
 * CRDs): what plan, provisioning and every apply check an object against before it reaches a cluster. Apart from
 * manifests.ts, and each kind loaded when an object of that kind is first validated: one API group's models are
 * several hundred modules (core v1 alone takes a third of a second to load), a command or a suite validates a
 * handful of kinds, and most commands none.
 */

type Model = { apiVersion: string; kind: string; new (data: unknown): { validate(): void } };

/**
 * The API groups meshproof validates, by apiVersion: the package folder whose `<Kind>` module holds each kind's
 * model. Istio serves EnvoyFilter only as networking.istio.io/v1alpha3 (it never reached v1), hence that group too.
 */
const modelGroups: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'networking.istio.io/v1': '@kubernetes-models/istio/networking.istio.io/v1',
  'networking.istio.io/v1alpha3': '@kubernetes-models/istio/networking.istio.io/v1alpha3',
  'security.istio.io/v1': '@kubernetes-models/istio/security.istio.io/v1',
  'telemetry.istio.io/v1': '@kubernetes-models/istio/telemetry.istio.io/v1',
};

const isModel = (exported: unknown): exported is Model =>
  typeof exported === 'function' && typeof (exported as Model).apiVersion === 'string' && typeof (exported as Model).kind === 'string';

const loadedModels = new Map<string, Promise<Model | undefined>>();

/** The model of one kind, loaded on first use; undefined when the group or the kind is not one meshproof knows. */
function modelOf(apiVersion: string, kind: string): Promise<Model | undefined> {
  const key = `${apiVersion}/${kind}`;
  let model = loadedModels.get(key);
  if (!model) {
    const group = modelGroups[apiVersion];
    // A kind is a Go type name; anything else cannot name a module of the package.
    model =
      group && /^[A-Z][A-Za-z0-9]*$/.test(kind)
        ? import(`${group}/${kind}`).then(
            (module: Record<string, unknown>) => {
              const exported = module[kind];
              return isModel(exported) && exported.apiVersion === apiVersion && exported.kind === kind ? exported : undefined;
            },
            () => undefined,
          )
        : Promise.resolve(undefined);
    loadedModels.set(key, model);
  }
  return model;
}

/** Every kind meshproof knows, for the error about one it does not: each group loaded whole, once, on that path only. */
async function knownKinds(): Promise<string[]> {
  const groups = await Promise.all(Object.values(modelGroups).map((group) => import(group) as Promise<Record<string, unknown>>));
  return groups.flatMap((group) => Object.values(group).filter(isModel).map((model) => `${model.apiVersion}/${model.kind}`)).filter((k) => !k.endsWith('List'));
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

/**
 * Validates objects against the schema of their kind, in order: the first invalid one is a ManifestError naming
 * the file, the object and every bad field.
 */
export async function validateObjects(objects: readonly FixtureObject[]): Promise<void> {
  for (const object of objects) await validateObject(object);
}

async function validateObject({ file, object }: FixtureObject): Promise<void> {
  const model = await modelOf(object.apiVersion, object.kind);
  const label = describeObject(object);
  if (!model) {
    throw new ManifestError(file, label, `meshproof has no schema for ${object.apiVersion} ${object.kind}; known: ${(await knownKinds()).join(', ')}`);
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

