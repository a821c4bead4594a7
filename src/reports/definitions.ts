// The report definitions a run uses, and the ones it used. Templates are read from a
// folder (reports-templates by default); each run stores the template's JSON exactly as
// it used it (canonical JSON, named by its SHA-256) in ledger.report_definitions, so that
// lineage and re-rendering read the run's own rules however the folder changes later.
// A report's template_version names one set of definitions for good: a template edited
// without a new version is refused before it computes anything.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { canonicalJson, sha256 } from '../ledger/canonical.ts';
import type { Client, Pool } from '../db/database.ts';
import { parseTemplate, type Template } from './template.ts';

export const defaultTemplatesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'reports-templates');

/** A template as parsed, with the exact JSON text stored for a run and its SHA-256. */
export type TemplateSource = { readonly template: Template; readonly definitions: string; readonly sha256: Buffer };

/** Read once per folder per process: a run and its lineage never see a half-edited folder. */
const cache = new Map<string, Promise<Map<string, TemplateSource>>>();

export function loadTemplateSources(dir: string = defaultTemplatesDir): Promise<Map<string, TemplateSource>> {
  const key = path.resolve(dir);
  let loaded = cache.get(key);
  if (loaded === undefined) {
    loaded = readTemplateSources(key);
    cache.set(key, loaded);
    // A failed read is not kept: the next call reads the folder again.
    loaded.catch(() => cache.delete(key));
  }
  return loaded;
}

async function readTemplateSources(dir: string): Promise<Map<string, TemplateSource>> {
  const sources = new Map<string, TemplateSource>();
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json') && name !== 'schedule.json').sort();
  for (const name of names) {
    const json: unknown = JSON.parse(await readFile(path.join(dir, name), 'utf8'));
    const template = parseTemplate(name, json);
    const definitions = canonicalJson(json);
    sources.set(template.report, { template, definitions, sha256: sha256(definitions) });
  }
  return sources;
}

export async function templateSourceFor(report: string, dir: string = defaultTemplatesDir): Promise<TemplateSource> {
  const sources = await loadTemplateSources(dir);
  const source = sources.get(report);
  if (source === undefined) {
    throw new UserError('bad_report', `no report ${JSON.stringify(report)}; reports: ${[...sources.keys()].sort().join(', ')}`);
  }
  return source;
}

/**
 * Refuses a template whose version already names other definitions (from an earlier
 * run): the version a run records must say which rules made its figures.
 */
export async function assertVersionNamesDefinitions(pool: Pool, source: TemplateSource): Promise<void> {
  const { report, version } = source.template;
  const stored = await pool.query<{ definitions_sha256: Buffer }>(`SELECT definitions_sha256 FROM ledger.report_definitions
    WHERE report = $1 AND template_version = $2`, [report, version]);
  const known = stored.rows[0]?.definitions_sha256;
  if (known !== undefined && !known.equals(source.sha256)) {
    throw new UserError('template_changed', `template ${report} version ${version} differs from the version ${version} ` +
      `earlier runs used (definitions ${known.toString('hex').slice(0, 12)}…); give the changed template a new "version"`);
  }
}

/** Stores the definitions (once per content) and names them as the run's; in the run's transaction. */
export async function storeRunDefinitions(client: Client, runId: string, source: TemplateSource): Promise<void> {
  await client.query(`INSERT INTO ledger.report_definitions (definitions_sha256, report, template_version, definitions)
    VALUES ($1, $2, $3, $4) ON CONFLICT (definitions_sha256) DO NOTHING`,
  [source.sha256, source.template.report, source.template.version, source.definitions]);
  await client.query('INSERT INTO ledger.run_definitions (run_id, definitions_sha256) VALUES ($1, $2)',
    [runId, source.sha256]);
}

export type RunDefinitions =
  /** The definitions the run stored: exactly its rules. */
  | { readonly stored: true; readonly template: Template }
  /** A run made before runs stored definitions: the template now on disk, of the run's version. */
  | { readonly stored: false; readonly template: Template };

export type RunIdentity = { readonly run_id: string; readonly report: string; readonly template_version: string };

/**
 * The definitions of a run: the stored ones, checked to be of the run's report and
 * template_version; or, for a run made before they were stored, today's template of the
 * same version, else a refusal that says so (the caller checks the figures' own
 * definitions against it where it matters).
 */
export async function runDefinitions(pool: Pool, run: RunIdentity, dir: string = defaultTemplatesDir): Promise<RunDefinitions> {
  const found = await pool.query<{ definitions: string }>(`SELECT d.definitions FROM ledger.run_definitions r
    JOIN ledger.report_definitions d USING (definitions_sha256) WHERE r.run_id = $1`, [run.run_id]);
  return definitionsOfRun(run, found.rows[0]?.definitions ?? null, dir);
}

/** As runDefinitions, from the stored definitions' text already read (null: the run stored none). */
export async function definitionsOfRun(
  run: RunIdentity, stored: string | null, dir: string = defaultTemplatesDir,
): Promise<RunDefinitions> {
  if (stored !== null) {
    const template = parseTemplate(`the definitions of run ${run.run_id}`, JSON.parse(stored));
    if (template.report !== run.report || template.version !== run.template_version) {
      throw new UserError('definitions_mismatch', `run ${run.run_id} records ${run.report} template version ` +
        `${run.template_version} but its stored definitions are ${template.report} version ${template.version}; ` +
        'the run cannot be explained');
    }
    return { stored: true, template };
  }
  const current = (await templateSourceFor(run.report, dir)).template;
  if (current.version !== run.template_version) {
    throw new UserError('definitions_unknown', `run ${run.run_id} was made before runs stored their definitions, with ` +
      `${run.report} template version ${run.template_version}; the template now is version ${current.version}, ` +
      'whose rules may differ, so it is not used to explain this run');
  }
  return { stored: false, template: current };
}
