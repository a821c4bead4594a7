// The pages' few static files (CSS, small progressive scripts), shipped in the package
// under src/web/assets and read once at startup: no CDN, nothing fetched at run time.
// Served from GET /assets/:name with an ETag (the file's SHA-256) and cached for a year
// when asked for with its version (`?v=`, which layout() always adds), so a new release's
// file is a new URL. To add one: drop the file in src/web/assets and name it in
// `assetUrl('x.js')` (scripts go through PageOptions.scripts, loaded with `defer`).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import type { HttpApp } from '../http/server.ts';

const assetsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');
const contentTypes: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml',
};

type Asset = { readonly bytes: Buffer; readonly sha256: string; readonly type: string };

const assets: ReadonlyMap<string, Asset> = new Map(readdirSync(assetsDir)
  .filter((name) => contentTypes[path.extname(name)] !== undefined)
  .map((name) => {
    const bytes = readFileSync(path.join(assetsDir, name));
    return [name, { bytes, sha256: createHash('sha256').update(bytes).digest('hex'),
      type: contentTypes[path.extname(name)] as string }];
  }));

/** The URL of an asset, versioned by its content. */
export function assetUrl(name: string): string {
  const asset = assets.get(name);
  if (asset === undefined) throw new Error(`invariant violated: no asset ${name} in ${assetsDir}`);
  return `/assets/${name}?v=${asset.sha256.slice(0, 16)}`;
}

export function assetRoutes(app: HttpApp): void {
  app.get('/assets/:name', {
    config: { permission: 'public' },
    schema: { hide: true, params: Type.Object({ name: Type.String({ pattern: '^[a-z0-9-]+\\.[a-z]+$', maxLength: 64 }) }),
      querystring: Type.Object({ v: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (asset === undefined) return reply.status(404).type('text/plain').send('no such file');
    const current = request.query.v === asset.sha256.slice(0, 16);
    void reply.header('ETag', `"${asset.sha256}"`).type(asset.type)
      .header('Cache-Control', current ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
    if (request.headers['if-none-match'] === `"${asset.sha256}"`) return reply.status(304).send();
    return reply.send(asset.bytes);
  });
}
