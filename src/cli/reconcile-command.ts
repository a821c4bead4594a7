// `ledger reconcile --date YYYY-MM-DD --processor FILE --bank FILE` (CLI.md): one
// reconciliation run, stored, its json file written under LEDGER_DATA_DIR/reconciliation,
// and exit 1 on any open break or failed check so that a scheduler notices. A bank file
// ending in .xml is read as camt.053, any other as CSV.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { reconLimits } from '../reconciliation/limits.ts';
import { bankFormatOf, runReconciliation } from '../reconciliation/run.ts';
import { summaryLines, writeRunFile } from '../reconciliation/nightly.ts';
import { resolveBreak } from '../reconciliation/store.ts';
import type { Command } from './main.ts';
import { withApplication } from '../app/application.ts';
import { terminalProgress } from '../observability/progress-stderr.ts';
import { publishRenderedRun } from '../reports/runs.ts';
import { reconciliationRenderInput } from '../reconciliation/render.ts';
import { readSigningKey } from '../signing/keys.ts';
import { loadTrustedKeys } from '../signing/trust.ts';

const string = { type: 'string' } as const;

function existingFile(flag: string, value: string | boolean | undefined): string {
  if (typeof value !== 'string' || value === '') throw new UserError('bad_flag', `${flag} FILE is required`);
  if (!existsSync(value)) throw new UserError('bad_file', `${flag} ${value}: no such file`);
  return value;
}

export const reconcileCommand: Command = {
  usage: 'ledger reconcile --date YYYY-MM-DD --processor FILE --bank FILE [--json]',
  options: { date: string, processor: string, bank: string },
  positionals: 0,
  async run({ values, config }) {
    const date = typeof values.date === 'string' ? values.date : '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new UserError('bad_flag', '--date YYYY-MM-DD is required');
    const processorPath = existingFile('--processor', values.processor);
    const bankPath = existingFile('--bank', values.bank);
    return withApplication(config, {}, async (ledger) => {
      const progress = terminalProgress('reconciling', 'rows', { json: values.json === true });
      const run = await runReconciliation(ledger.db.pool, {
        date, processor: { path: processorPath, format: 'csv' }, bank: { path: bankPath, format: bankFormatOf(bankPath) },
        requestedBy: 'cli', graceDays: config.reconGraceDays, toleranceDays: config.reconToleranceDays,
        now: () => new Date(),
        trusted: await loadTrustedKeys(config, await readSigningKey(config.dataDir, config.signingKeyPem)),
        ...progress === null ? {} : { onProgress: (done: number, total: number) => progress.update(done, total) },
      }).finally(() => progress?.finish());
      const file = await writeRunFile(run, path.join(config.dataDir, 'reconciliation'));
      // The run as the `reconciliation` report (REPORTS.md): rendered, signed and stored.
      const report = await publishRenderedRun(await ledger.reportContext(), reconciliationRenderInput(run));
      const printed = run.breaks.slice(0, reconLimits.breaksPrintedMax);
      return {
        json: { ...run, breaks: printed, breaks_total: run.breaks.length, file, report },
        text: [...summaryLines(run), `run file: ${file}`, `report: ${Object.values(report.files).join(', ')}`].join('\n'),
        exitCode: run.ok ? 0 : 1,
      };
    });
  },
};

/** `ledger reconcile resolve BREAK_ID --reason TEXT`: who, when and why, recorded once, never edited. */
export const resolveBreakCommand: Command = {
  usage: 'ledger reconcile resolve BREAK_ID --reason TEXT [--by NAME] [--json]',
  options: { reason: string, by: string },
  positionals: 1,
  run: ({ values, positionals, config }) => withApplication(config, {}, async (ledger) => {
    const resolution = await resolveBreak(ledger.db.pool, {
      breakId: positionals[0] as string,
      resolvedBy: typeof values.by === 'string' ? values.by : `cli:${process.env.USER ?? 'operator'}`,
      reason: typeof values.reason === 'string' ? values.reason : '',
      now: new Date(),
    });
    return { json: resolution, text: `resolved ${positionals[0]} by ${resolution.resolved_by}: ${resolution.reason}` };
  }),
};

export const reconcileCommands: Record<string, Command> = {
  reconcile: reconcileCommand,
  'reconcile resolve': resolveBreakCommand,
};
