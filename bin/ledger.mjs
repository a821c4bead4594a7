#!/usr/bin/env node
// The `ledger` executable: TypeScript sources run through tsx, so there is no build step
// to forget between a checkout and a working command.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
