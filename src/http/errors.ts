// One answer for every error (API.md, Conventions): `{error: {code, message, field}}`.
// A user's mistake (UserError, a schema violation) is 4xx with a message a person can act
// on; anything else is a bug: 500 with the request id, logged with its stack, nothing
// of its internals sent.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isUserError } from '../errors.ts';

const statusByCode: Readonly<Record<string, number>> = {
  unauthenticated: 401,
  forbidden: 403,
  separation_of_duties: 403,
  not_found: 404,
  conflict: 409,
  grant_not_pending: 409,
  too_many_failures: 429,
  trail_unavailable: 503,
};

export type ErrorBody = { error: { code: string; message: string; field: string | null } };

export function errorBody(code: string, message: string, field: string | null = null): ErrorBody {
  return { error: { code, message, field } };
}

export function statusOfUserError(code: string): number {
  return statusByCode[code] ?? 400;
}

/** The field a schema violation names: `/lines/0/amount` → `lines[0].amount`. */
function fieldOf(error: FastifyError): string | null {
  const first = error.validation?.[0];
  if (first === undefined) return null;
  const missing = (first.params as { missingProperty?: string; additionalProperty?: string } | undefined);
  const base = first.instancePath.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
  const leaf = missing?.missingProperty ?? missing?.additionalProperty;
  const field = leaf === undefined ? base : base === '' ? leaf : `${base}.${leaf}`;
  return field === '' ? (error.validationContext ?? null) : field;
}

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isUserError(error)) {
    void reply.status(statusOfUserError(error.code)).send(errorBody(error.code, error.message, error.field ?? null));
    return;
  }
  if (error.validation !== undefined) {
    const field = fieldOf(error);
    const detail = error.validation[0];
    const additional = (detail?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
    const message = additional !== undefined ? `${field} is not a field of this request`
      : `${field ?? error.validationContext ?? 'request'} ${detail?.message ?? 'is invalid'}`;
    void reply.status(400).send(errorBody('invalid_request', message, field));
    return;
  }
  const status = error.statusCode ?? 500;
  if (status === 413) {
    void reply.status(413).send(errorBody('body_too_large', 'the request body is larger than this route accepts'));
    return;
  }
  if (status >= 400 && status < 500) {
    void reply.status(status).send(errorBody(error.code ?? 'bad_request', error.message));
    return;
  }
  request.log.error({ err: error }, 'request failed');
  void reply.status(500).send(errorBody('internal', `internal error; request ${request.id} (logged)`));
}
