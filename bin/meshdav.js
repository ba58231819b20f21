#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx, so `npm ci` is the only set-up step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
