#!/usr/bin/env node
// `npm run demo`: the Jasper incident on a simulated GPU (see demo/).
import { register } from 'tsx/esm/api';

register();
await import('../demo/main.ts');
