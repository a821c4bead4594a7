// A real OpenID provider for the OIDC login journey: `oidc-provider` (certified, Koa-based)
// on an ephemeral loopback port, with one client of the ledger (authorization code with
// PKCE, redirecting to the ledger's /login/oidc/callback) and one person. Its development
// interactions render a sign-in form (any password) and a consent form; the browser test
// fills them in as a person would.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

export type TestOpenIdProvider = {
  readonly issuer: string;
  readonly clientId: string;
  /** The login the sign-in form takes; it is also the account's subject. */
  readonly login: string;
  readonly email: string;
  close(): Promise<void>;
};

export type ProviderOptions = {
  /** The ledger's public URL: the client's redirect is `${ledgerUrl}/login/oidc/callback`. */
  readonly ledgerUrl: string;
  readonly subject: string;
  readonly email: string;
  readonly clientId?: string;
};

export async function startOpenIdProvider(options: ProviderOptions): Promise<TestOpenIdProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const clientId = options.clientId ?? 'ledger-web';
  const signingJwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'],
      response_types: ['code'], redirect_uris: [`${options.ledgerUrl}/login/oidc/callback`] }],
    jwks: { keys: [{ ...signingJwk, kid: 'test-rs256', use: 'sig', alg: 'RS256' }] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // A person known only by this login; any other login is still "someone", unknown to the ledger.
    async findAccount(_ctx: unknown, sub: string) {
      return { accountId: sub, claims: () => (sub === options.subject
        ? { sub, email: options.email, email_verified: true } : { sub }) };
    },
    cookies: { keys: ['test-oidc-provider-cookie-key'] },
    pkce: { required: () => true },
    // Short lives, stated so the provider does not warn of its defaults on every test.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60, IdToken: 300, AccessToken: 300 },
    features: { devInteractions: { enabled: true } },
  });
  server.on('request', provider.callback());
  return {
    issuer, clientId, login: options.subject, email: options.email,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
