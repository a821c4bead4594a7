// The OIDC login settings as an operator meets them in src/config.ts: a client id turns the
// login page's "Sign in with …" on; a secret makes it a confidential client and never shows
// when the config is printed or serialised; each mistake is a one-line UserError naming
// the variable to fix.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { UserError } from '../../src/errors.ts';

const issuer = { LEDGER_OIDC_ISSUER: 'https://id.example.com', LEDGER_OIDC_AUDIENCE: 'ledger' };

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('LEDGER_OIDC_CLIENT_ID and LEDGER_OIDC_CLIENT_SECRET', () => {
  it('leave OIDC login off without a client id, and turn it on with one (public client with PKCE)', () => {
    expect(loadConfig(issuer).oidc?.login).toBeNull();
    expect(loadConfig({ ...issuer, LEDGER_OIDC_CLIENT_ID: 'ledger-web' }).oidc?.login)
      .toEqual({ clientId: 'ledger-web', clientSecret: null });
  });

  it('keep a confidential client\'s secret out of anything printed', () => {
    const config = loadConfig({ ...issuer, LEDGER_OIDC_CLIENT_ID: 'ledger-web', LEDGER_OIDC_CLIENT_SECRET: 'very-secret-value' });
    expect(config.oidc?.login?.clientSecret?.reveal()).toBe('very-secret-value');
    expect(JSON.stringify(config)).not.toContain('very-secret-value');
    expect(inspect(config, { depth: 10 })).not.toContain('very-secret-value');
  });

  it('refuse a client without an issuer, and a secret without a client, naming the variable', () => {
    expect(refusal({ LEDGER_OIDC_CLIENT_ID: 'ledger-web' })).toMatch(/^LEDGER_OIDC_CLIENT_ID is set but LEDGER_OIDC_ISSUER is not/);
    expect(refusal({ ...issuer, LEDGER_OIDC_CLIENT_SECRET: 'x' }))
      .toMatch(/^LEDGER_OIDC_CLIENT_SECRET is set but LEDGER_OIDC_CLIENT_ID is not/);
  });
});
