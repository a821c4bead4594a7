// `ledger access …`: the operators' mirror of /api/access (API.md, Command line). Each
// command acts as the identity named by --as, which must hold access:admin in force,
// and is recorded in the same trail as the API, from `cli:<user>@<host>`. Two exceptions
// run on the server host only: `bootstrap` (no admin exists yet) and `approve
// --break-glass` (only one admin exists), each recorded as such.
import os from 'node:os';
import { grantsAllowing } from '../access-control/grants.ts';
import { permissionTableMarkdown, rolePermissions, roles } from '../access-control/permissions.ts';
import {
  approveGrant, bootstrapAdmin, createIdentity, grantRole, issueTokenFor, revokeGrant, type AccessContext, type Actor,
} from '../access-control/service.ts';
import { findIdentity, grantsOf, listIdentities } from '../access-control/store.ts';
import { scopeJson } from '../access-control/scope.ts';
import { UserError } from '../errors.ts';
import { limits } from '../limits.ts';
import type { Command } from './main.ts';
import { checkRunParams, createRun } from '../reports/runs.ts';
import { withApplication, type Application } from '../app/application.ts';

const string = { type: 'string' } as const;
const boolean = { type: 'boolean' } as const;

function hostSource(): string {
  return `cli:${os.userInfo().username}@${os.hostname()}`;
}

function accessContext(ledger: Application): AccessContext {
  return { pool: ledger.db.pool, clock: () => new Date() };
}

function required(values: Record<string, string | boolean | undefined>, flag: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value.trim() === '') throw new UserError('bad_flag', `--${flag} is required`);
  return value;
}

/** The admin an operator acts as: named, and holding access:admin in force now. */
async function actingAdmin(ledger: Application, values: Record<string, string | boolean | undefined>): Promise<Actor> {
  const id = required(values, 'as');
  const identity = await findIdentity(ledger.db.pool, id);
  if (identity === null) throw new UserError('bad_flag', `--as ${id}: no such identity`);
  const grants = grantsAllowing(await grantsOf(ledger.db.pool, id), 'access:admin', new Date());
  if (grants.length === 0) throw new UserError('forbidden', `--as ${id}: holds no admin grant in force`);
  return { identityId: id, source: hostSource(), grantId: grants[0]?.id ?? null };
}

function scopeFrom(values: Record<string, string | boolean | undefined>): Record<string, string[]> | undefined {
  const list = (flag: string) => (typeof values[flag] === 'string'
    ? (values[flag] as string).split(',').map((v) => v.trim()).filter((v) => v !== '') : undefined);
  const currencies = list('currencies');
  const markets = list('markets');
  if (currencies === undefined && markets === undefined) return undefined;
  return { ...(currencies === undefined ? {} : { currencies }), ...(markets === undefined ? {} : { markets }) };
}

const bootstrap: Command = {
  usage: 'ledger access bootstrap [--name NAME] [--email EMAIL] [--json]',
  options: { name: string, email: string },
  positionals: 0,
  run: ({ values, config }) => withApplication(config, {}, async (ledger) => {
    const result = await bootstrapAdmin(accessContext(ledger), hostSource(), {
      name: typeof values.name === 'string' ? values.name : 'Administrator',
      email: typeof values.email === 'string' ? values.email : null,
    });
    return { json: { user: result.user.id, token: result.token, expires_at: result.expiresAt.toISOString() },
      text: `first admin: ${result.user.id}\ntoken (shown once): ${result.token}` };
  }),
};

const users: Command = {
  usage: 'ledger access users [--add --as ADMIN --name NAME [--email EMAIL] --kind person|service] [--json]',
  options: { add: boolean, as: string, name: string, email: string, kind: string },
  positionals: 0,
  run: ({ values, config }) => withApplication(config, {}, async (ledger) => {
    if (values.add === true) {
      const identity = await createIdentity(accessContext(ledger), await actingAdmin(ledger, values), {
        name: required(values, 'name'), email: values.email, kind: required(values, 'kind') });
      return { json: { id: identity.id, name: identity.name, email: identity.email, kind: identity.kind },
        text: `added ${identity.kind} ${identity.id}` };
    }
    const all = await listIdentities(ledger.db.pool, null, limits.pageRowsMax);
    const items = await Promise.all(all.map(async (i) => ({ id: i.id, name: i.name, email: i.email, kind: i.kind,
      grants: (await grantsOf(ledger.db.pool, i.id)).map((g) => ({ id: g.id, role: g.role, scope: scopeJson(g.scope),
        status: g.status, expires_at: g.expiresAt.toISOString() })) })));
    const text = items.map((i) => `${i.id} (${i.kind}) ${i.name}: ` +
      (i.grants.map((g) => `${g.role}/${g.status}`).join(', ') || 'no grants')).join('\n');
    return { json: { items }, text: text || 'no identities; run `ledger access bootstrap`' };
  }),
};

const grant: Command = {
  usage: 'ledger access grant --as ADMIN --user ID --role ROLE [--currencies C,…] [--markets M,…] ' +
    '--expires-at TIME --reason TEXT [--json]',
  options: { as: string, user: string, role: string, currencies: string, markets: string, 'expires-at': string,
    reason: string },
  positionals: 0,
  run: ({ values, config }) => withApplication(config, {}, async (ledger) => {
    const made = await grantRole(accessContext(ledger), await actingAdmin(ledger, values), {
      user: required(values, 'user'), role: required(values, 'role'), scope: scopeFrom(values),
      expires_at: required(values, 'expires-at'), reason: required(values, 'reason') });
    return { json: { id: made.id, user: made.userId, role: made.role, scope: scopeJson(made.scope),
      expires_at: made.expiresAt.toISOString(), status: made.status, granted_by: made.grantedBy },
    text: `grant ${made.id}: ${made.role} for ${made.userId}, ${made.status}` };
  }),
};

const approve: Command = {
  usage: 'ledger access approve GRANT_ID --as ADMIN [--break-glass] [--reason TEXT] [--json]',
  options: { as: string, 'break-glass': boolean, reason: string },
  positionals: 1,
  run: ({ values, positionals, config }) => withApplication(config, {}, async (ledger) => {
    const breakGlass = values['break-glass'] === true;
    if (breakGlass && typeof values.reason !== 'string') throw new UserError('bad_flag', '--break-glass needs --reason');
    const approved = await approveGrant(accessContext(ledger), await actingAdmin(ledger, values),
      positionals[0] as string, { reason: typeof values.reason === 'string' ? values.reason : null, breakGlass });
    return { json: { id: approved.id, status: 'active', approved_by: approved.approvedBy, break_glass: breakGlass },
      text: `grant ${approved.id} approved${breakGlass ? ' (break-glass, recorded)' : ''}` };
  }),
};

const revoke: Command = {
  usage: 'ledger access revoke GRANT_ID --as ADMIN --reason TEXT [--json]',
  options: { as: string, reason: string },
  positionals: 1,
  run: ({ values, positionals, config }) => withApplication(config, {}, async (ledger) => {
    const revoked = await revokeGrant(accessContext(ledger), await actingAdmin(ledger, values),
      positionals[0] as string, required(values, 'reason'));
    return { json: { id: revoked.id, status: 'revoked' }, text: `grant ${revoked.id} revoked` };
  }),
};

const token: Command = {
  usage: 'ledger access token --as ADMIN --user ID [--expires-at TIME] [--json]',
  options: { as: string, user: string, 'expires-at': string },
  positionals: 0,
  run: ({ values, config }) => withApplication(config, {}, async (ledger) => {
    const issued = await issueTokenFor(accessContext(ledger), await actingAdmin(ledger, values), {
      user: required(values, 'user'),
      ...(typeof values['expires-at'] === 'string' ? { expires_at: values['expires-at'] } : {}) });
    return { json: { token: issued.token, token_id: issued.tokenId, expires_at: issued.expiresAt.toISOString() },
      text: `token for ${String(values.user)} (shown once), until ${issued.expiresAt.toISOString()}:\n${issued.token}` };
  }),
};

const review: Command = {
  usage: 'ledger access review [--as-of TIME] [--json]',
  options: { 'as-of': string },
  positionals: 0,
  run: ({ values, config }) => withApplication(config, {}, async (ledger) => {
    const params = typeof values['as-of'] === 'string' ? { as_of: values['as-of'] } : {};
    await checkRunParams('access-review', params);
    const run = await createRun(await ledger.reportContext(), { report: 'access-review', params,
      requestedBy: hostSource(), now: new Date() });
    return { json: run, text: [`access review ${run.run_id}`, ...Object.values(run.files)].join('\n') };
  }),
};

const rolesCommand: Command = {
  usage: 'ledger access roles [--json]',
  options: {},
  positionals: 0,
  async run() {
    return { json: { roles: Object.fromEntries(roles.map((r) => [r, rolePermissions[r]])) },
      text: permissionTableMarkdown() };
  },
};

export const accessCommands: Record<string, Command> = {
  'access bootstrap': bootstrap,
  'access users': users,
  'access grant': grant,
  'access approve': approve,
  'access revoke': revoke,
  'access token': token,
  'access roles': rolesCommand,
  'access review': review,
};
