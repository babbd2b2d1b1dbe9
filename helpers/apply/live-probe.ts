import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../config/manifests.ts';

/**
 * The live-probe route meshproof adds to what it applies, so that the gate can prove the new configuration is
 * the one serving (helpers/gate/config-live.ts). It is part of what is applied, so it is built here.
 *
 * Waiting "a few seconds" after an apply (the docs' advice) lets a test measure the previous route: Gateway
 * API's weighted test passed on the old config this way (gateway-api#3233). Here the gate's success can only
 * come from the new config: every apply gets an id, and each of its VirtualServices gets one extra route, first
 * in the list, that matches only a probe request carrying that id and aborts it with a status no Bookinfo path
 * answers. The previous config has no such route, so it can never produce that answer for that id.
 *
 * The probe id travels in User-Agent because Bookinfo forwards it hop by hop (productpage and reviews copy
 * user-agent into their outgoing requests: samples/bookinfo/src/productpage/productpage.py getForwardHeaders),
 * so a probe sent to the gateway reaches the sidecars that route reviews and ratings. The probe route matches
 * nothing else, so the feature's own behaviour is unchanged for every other request.
 */

/** The answer of a probe route; 418 is not a status any Bookinfo service or Istio default produces. */
export const liveProbeStatus = 418;

export function newApplyId(): string {
  return randomUUID().slice(0, 8);
}

/**
 * The probe's User-Agent for one VirtualService host: each host gets its own, so a probe for ratings passes
 * the reviews route untouched and reaches the sidecar that routes ratings.
 */
export function probeUserAgent(applyId: string, host: string): string {
  return `meshproof-probe/${applyId}/${host}`;
}

/** The name of an apply's probe route: Istio gives the Envoy route the same name, so a proxy's dump shows it. */
export function liveProbeRouteName(applyId: string): string {
  return `meshproof-live-probe-${applyId}`;
}

interface HttpRoute {
  match?: unknown[];
  route?: { destination: { host: string } }[];
  [field: string]: unknown;
}

/**
 * A copy of a VirtualService with the probe route first. The route targets the VirtualService's own host, so it
 * is valid wherever the original is; it matches only the probe for this apply and this host.
 */
export function withLiveProbe(virtualService: KubeObject, applyId: string): KubeObject {
  if (virtualService.kind !== 'VirtualService') return virtualService;
  const copy = structuredClone(virtualService) as KubeObject & { spec: { hosts: string[]; http?: HttpRoute[] } };
  const host = copy.spec.hosts[0]!;
  const probe: HttpRoute = {
    name: liveProbeRouteName(applyId),
    match: [{ headers: { 'user-agent': { exact: probeUserAgent(applyId, host) } } }],
    fault: { abort: { httpStatus: liveProbeStatus, percentage: { value: 100 } } },
    route: [{ destination: { host } }],
  };
  copy.spec.http = [probe, ...(copy.spec.http ?? [])];
  return copy;
}
