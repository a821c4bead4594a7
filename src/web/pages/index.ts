// Every group of web pages, registered in this order. To add a group: write a PageModule
// (src/web/layout.ts shows one) and append it here.
import type { PageModule } from '../index.ts';
import { adminPages } from './admin.ts';
import { reconciliationPages } from './reconciliation.ts';
import { runPages } from './runs.ts';

export const pageModules: PageModule[] = [runPages, reconciliationPages, adminPages];
