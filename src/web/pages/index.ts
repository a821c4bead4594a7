// Every group of web pages, registered in this order. To add a group: write a PageModule
// (src/web/layout.ts shows one) and append it here.
import type { PageModule } from '../index.ts';
import { adminPages } from './admin.ts';
import { figurePages } from './figure.ts';
import { reconciliationPages } from './reconciliation.ts';
import { recordPages } from './records.ts';
import { runPages } from './runs.ts';
import { trailPages } from './trail.ts';
import { verificationPages } from './verification.ts';

export const pageModules: PageModule[] = [runPages, figurePages, recordPages, verificationPages, trailPages,
  reconciliationPages, adminPages];
