// Every group of web pages, registered in this order. To add a group: write a PageModule
// (src/web/layout.ts shows one) and append it here.
import type { PageModule } from '../index.ts';

export const pageModules: PageModule[] = [];
