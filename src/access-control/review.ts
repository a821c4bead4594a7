// The access-review report (REPORTS.md): who holds which role, on what scope, granted by
// whom, when, why, until when, as of an instant; and every grant, approval, refusal and
// revocation of the 90 days before it. For periodic certification by the control owner.
// Read from the access tables and the trail as of `as_of`, so a re-run at the same
// instant gives the same figures; rendered and signed like every report.
import type { Pool } from '../db/database.ts';
import { figure, type Figure } from '../reports/figures.ts';
import type { Cell, RenderInput, Section } from '../reports/render/types.ts';
import { roles } from './permissions.ts';
import { describeScope, parseScope } from './scope.ts';

export const accessReviewReport = 'access-review';
export const accessReviewVersion = '1';
const lookbackMs = 90 * 24 * 60 * 60 * 1000;
const actsShownMax = 100_000;

type Holder = { identity_id: string; name: string; kind: string; role: string; scope: unknown; granted_by: string;
  granted_at: Date; approved_by: string | null; approved_at: Date | null; break_glass: boolean | null; reason: string;
  expires_at: Date; grant_id: string };
type Act = { seq: string; at: Date; actor: string; action: string; object: string | null; detail: Record<string, unknown> };

export type ReviewHeader = { runId: string; asOf: Date; requestedBy: string; generatedAt: Date; supersedes: string | null };

export async function accessReviewInput(pool: Pool, header: ReviewHeader): Promise<Omit<RenderInput, 'dataSha256' | 'lineageBaseUrl'>> {
  const holders = await pool.query<Holder>(`SELECT g.grant_id, g.identity_id, i.name, i.kind, g.role, g.scope,
      g.granted_by, g.granted_at, a.approved_by, a.approved_at, a.break_glass, g.reason, g.expires_at
      FROM access.grants g JOIN access.identities i USING (identity_id)
      LEFT JOIN access.grant_approvals a ON a.grant_id = g.grant_id AND a.approved_at < $1
      LEFT JOIN access.grant_revocations r ON r.grant_id = g.grant_id AND r.revoked_at < $1
     WHERE g.granted_at < $1 AND g.expires_at > $1 AND r.grant_id IS NULL AND (NOT g.privileged OR a.grant_id IS NOT NULL)
     ORDER BY g.identity_id, g.role, g.grant_id`, [header.asOf]);
  const acts = await pool.query<Act>(`SELECT seq, at, actor, action, object, detail FROM access.audit_trail
     WHERE at >= $1 AND at < $2 AND action LIKE 'grant.%' ORDER BY seq LIMIT $3`,
  [new Date(header.asOf.getTime() - lookbackMs), header.asOf, actsShownMax]);
  const figures = reviewFigures(header.runId, holders.rows, acts.rows);
  return {
    header: { report: accessReviewReport, title: `Access review as of ${header.asOf.toISOString()}`, run_id: header.runId,
      template_version: accessReviewVersion, params: { as_of: header.asOf.toISOString() }, watermark: {},
      generated_at: header.generatedAt.toISOString(), requested_by: header.requestedBy, supersedes: header.supersedes,
      checkpoint: null },
    figures,
    sections: [holdersSection(holders.rows), actsSection(acts.rows)],
    charts: [],
  };
}

function reviewFigures(runId: string, holders: readonly Holder[], acts: readonly Act[]): Figure[] {
  const byRole = roles.map((role) => figure(runId, 'grants_in_force', { role },
    String(holders.filter((h) => h.role === role).length)));
  const actions = [...new Set(acts.map((a) => a.action))].sort();
  const byAction = actions.map((action) => figure(runId, 'acts', { action },
    String(acts.filter((a) => a.action === action).length)));
  return [...byRole, figure(runId, 'holders', {}, String(new Set(holders.map((h) => h.identity_id)).size)), ...byAction];
}

function holdersSection(holders: readonly Holder[]): Section {
  const text = (key: string, title: string) => ({ key, title, kind: 'text' as const });
  return {
    name: 'Holders', title: 'Grants in force: who holds which role, on what scope, until when',
    columns: [text('identity', 'Identity'), text('name', 'Name'), text('kind', 'Kind'), text('role', 'Role'),
      text('scope', 'Scope'), text('granted_by', 'Granted by'), { key: 'granted_at', title: 'Granted at', kind: 'datetime' },
      text('approved_by', 'Approved by'), text('reason', 'Reason'), { key: 'expires_at', title: 'Expires', kind: 'datetime' },
      text('grant', 'Grant')],
    rows: holders.map((h): Cell[] => [h.identity_id, h.name, h.kind, h.role, describeScope(parseScope(h.scope)),
      h.granted_by, h.granted_at.toISOString(),
      h.approved_by === null ? null : `${h.approved_by}${h.break_glass === true ? ' (break-glass)' : ''}`,
      h.reason, h.expires_at.toISOString(), h.grant_id]),
  };
}

function actsSection(acts: readonly Act[]): Section {
  const text = (key: string, title: string) => ({ key, title, kind: 'text' as const });
  return {
    name: 'Acts', title: 'Every grant, approval, refusal and revocation of the 90 days before',
    columns: [text('seq', 'Trail row'), { key: 'at', title: 'At', kind: 'datetime' }, text('actor', 'Actor'),
      text('action', 'Action'), text('object', 'Object'), text('detail', 'Detail')],
    rows: acts.map((a): Cell[] => [a.seq, a.at.toISOString(), a.actor, a.action, a.object,
      JSON.stringify(a.detail)]),
  };
}
