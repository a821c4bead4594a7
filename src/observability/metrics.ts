// Prometheus metrics (prom-client), one registry per service: projector lag per
// partition and batches, quarantines by reason, report runs, open reconciliation breaks,
// HTTP latency. What the database already knows (quarantines, runs, breaks) is read from
// it at scrape time, so every process of a scaled-out service reports the same truth
// rather than its own share of it.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Pool } from '../db/database.ts';
import type { ProgressReport } from '../projector/projector.ts';

export type Metrics = {
  readonly registry: Registry;
  observeBatch(report: ProgressReport): void;
  observeHttp(method: string, route: string, status: number, seconds: number): void;
};

export function createMetrics(pool: Pool): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ledger_process_' });
  const lag = new Gauge({ name: 'ledger_projector_lag_messages', help: 'Messages in the log not yet projected',
    labelNames: ['topic', 'partition'], registers: [registry] });
  const batches = new Counter({ name: 'ledger_projector_batches_total', help: 'Batches committed by this process',
    labelNames: ['topic', 'partition'], registers: [registry] });
  const messages = new Counter({ name: 'ledger_projector_messages_total', help: 'Messages projected by this process',
    labelNames: ['outcome'], registers: [registry] });
  const http = new Histogram({ name: 'ledger_http_request_duration_seconds', help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry] });
  fromDatabase(registry, pool);
  return {
    registry,
    observeBatch(report) {
      const labels = { topic: report.topic, partition: String(report.partition) };
      lag.set(labels, Math.max(0, report.highWatermark - report.nextOffset));
      batches.inc(labels);
      messages.inc({ outcome: 'posted' }, report.counts.posted);
      messages.inc({ outcome: 'duplicate' }, report.counts.duplicates);
      messages.inc({ outcome: 'quarantined' }, report.counts.quarantined);
    },
    observeHttp(method, route, status, seconds) {
      http.observe({ method, route, status: String(status) }, seconds);
    },
  };
}

function fromDatabase(registry: Registry, pool: Pool): void {
  new Gauge({ name: 'ledger_quarantined_messages', help: 'Quarantined messages, by reason', labelNames: ['reason'],
    registers: [registry], async collect() {
      this.reset();
      const rows = await pool.query<{ reason: string; n: string }>(
        'SELECT reason, count(*) AS n FROM ledger.quarantine GROUP BY reason');
      for (const r of rows.rows) this.set({ reason: r.reason }, Number(r.n));
    } });
  new Gauge({ name: 'ledger_report_runs', help: 'Published report runs, by report', labelNames: ['report'],
    registers: [registry], async collect() {
      this.reset();
      const rows = await pool.query<{ report: string; n: string }>(
        'SELECT report, count(*) AS n FROM ledger.report_runs GROUP BY report');
      for (const r of rows.rows) this.set({ report: r.report }, Number(r.n));
    } });
  new Gauge({ name: 'ledger_reconciliation_breaks_open', help: 'Reconciliation breaks not yet resolved',
    registers: [registry], async collect() {
      const rows = await pool.query<{ n: string }>(`SELECT count(DISTINCT i.break_id) AS n
          FROM ledger.reconciliation_items i
          LEFT JOIN ledger.reconciliation_resolutions r USING (break_id)
         WHERE i.break_id IS NOT NULL AND r.break_id IS NULL`);
      this.set(Number(rows.rows[0]?.n ?? 0));
    } });
}
