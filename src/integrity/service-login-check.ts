// verify's view of who the service is: the login it verifies through must be confined
// (service-login.ts), or nothing the journal's guards promise holds.
import type { Pool } from '../db/database.ts';
import { findEscapes } from '../db/service-login.ts';
import { check, type Check } from './chain-checks.ts';

export async function checkServiceLogin(pool: Pool): Promise<Check> {
  const me = await pool.query<{ role: string }>('SELECT session_user AS role');
  const role = me.rows[0]?.role as string;
  const finding = await findEscapes(pool, role);
  return check('service_login', finding.problems.map((p) => `the service login ${role} ${p}`),
    `the service logs in as ${role}, which owns nothing and may only read and append`);
}
