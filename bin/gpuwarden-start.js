#!/usr/bin/env node
// `npm start`: the collector and a local agent with embedded defaults.
import { register } from 'tsx/esm/api';

register();
await import('../demo/start.ts');
