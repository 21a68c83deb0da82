#!/usr/bin/env node
// Entry point of gpuwarden-collector: loads the TypeScript sources through tsx
// (a runtime dependency), so there is no build step to forget or go stale.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../collector/src/main.ts');
process.exitCode = await main(process.argv.slice(2));
