#!/usr/bin/env node
// The CLI is written in TypeScript like the rest of meshproof; tsx compiles it on the fly so that the
// lab commands and the suites share one source without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../helpers/cli/main.ts');
