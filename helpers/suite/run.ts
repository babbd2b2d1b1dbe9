import type { MeshproofConfig } from '../config/config.ts';
import type { ClusterToolName } from '../config/cluster-tools.ts';
import type { MeshEnvironment } from '../provision/provision.ts';
import type { ClusterAccess } from '../provision/runner.ts';

/** What global-setup hands every suite (inject('meshproof')); plain data, as vitest's provide requires. */
export interface MeshproofRun {
  /** This run's id: its recordings carry it, and its summary reads only recordings that do. */
  runId: string;
  config: MeshproofConfig;
  access: ClusterAccess;
  mesh: MeshEnvironment;
  /** The pinned kind, helm, kubectl and istioctl the run uses, so each suite's worker drives the same binaries. */
  tools: Record<ClusterToolName, string>;
}
