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

/** The status and body an error is answered with; a bug (500) is logged with its stack here. */
export function errorAnswer(error: FastifyError, request: FastifyRequest): { status: number; body: ErrorBody } {
  if (isUserError(error)) {
    return { status: statusOfUserError(error.code), body: errorBody(error.code, error.message, error.field ?? null) };
  }
  if (error.validation !== undefined) {
    const field = fieldOf(error);
    const detail = error.validation[0];
    const additional = (detail?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
    const message = additional !== undefined ? `${field} is not a field of this request`
      : `${field ?? error.validationContext ?? 'request'} ${detail?.message ?? 'is invalid'}`;
    return { status: 400, body: errorBody('invalid_request', message, field) };
  }
  const status = error.statusCode ?? 500;
  if (status === 413) {
    return { status, body: errorBody('body_too_large', 'the request body is larger than this route accepts') };
  }
  if (error.code === 'FST_CSRF_MISSING_SECRET' || error.code === 'FST_CSRF_INVALID_TOKEN') {
    return { status: 403, body: errorBody('csrf_refused', 'this form was not sent from its page here (its security ' +
      'token is missing or wrong); nothing was changed; reload the page and try again') };
  }
  if (status >= 400 && status < 500) return { status, body: errorBody(error.code ?? 'bad_request', error.message) };
  request.log.error({ err: error }, 'request failed');
  return { status: 500, body: errorBody('internal', `internal error; request ${request.id} (logged)`) };
}

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const answer = errorAnswer(error, request);
  void reply.status(answer.status).send(answer.body);
}
