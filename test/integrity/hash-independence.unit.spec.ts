// `ledger verify` checks entry hashes independently of the code that wrote them: it
// recomputes each with entryHashInput, the defining canonical-JSON form (entry.ts), never
// with entryHashInputFast, the projector's hand-written one, so that a fault in the fast
// writer cannot be repeated by the check. And the two are held equal on a large generated
// stream: a few thousand events of every type, bad messages mixed in, folded through the
// pure core exactly as the projector folds them (state changes applied, event ids claimed),
// each posted entry built and sealed as the projector builds it.
import { createHash } from 'node:crypto';
import { approvalKeys } from '../../src/ledger/approval.ts';
import { testApprover, testTrustedKeys } from '../support/keys.ts';
import { describe, expect, it } from 'vitest';
import { generateEventStream } from '../../src/generator/index.ts';
import { eventTypes } from '../../src/generator/index.ts';
import { recomputedHash } from '../../src/integrity/chains.ts';
import {
  bookingFor, entryHashInput, entryHashInputFast, entryIdFor, genesisHash, sealEntry, type JournalEntry,
} from '../../src/ledger/entry.ts';
import { decideMessage, prepareMessage, type PostedEvent } from '../../src/ledger/project.ts';
import { decodeState, encodeState } from '../../src/ledger/state.ts';

const topic = 'marketplace.events';
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Every entry the stream posts on one chain, with the number of messages quarantined. */
function postedEntries(lines: readonly string[]): { entries: JournalEntry[]; quarantined: number } {
  const state = new Map<string, string>();
  const posted = new Map<string, PostedEvent>();
  const entries: JournalEntry[] = [];
  let quarantined = 0;
  let prevHash = genesisHash;
  for (const [offset, line] of lines.entries()) {
    const position = { topic, partition: 0, offset };
    const view = (key: string) => {
      const stored = state.get(key);
      return stored === undefined ? undefined : decodeState(stored);
    };
    const outcome = decideMessage(prepareMessage(Buffer.from(line, 'utf8')), (id) => posted.get(id), view,
      testApprovalKeys);
    if (outcome.kind === 'quarantined') quarantined += 1;
    if (outcome.kind !== 'posted') continue;
    const booking = bookingFor(outcome.envelope.occurredAt, new Set());
    const entry = sealEntry({
      entryId: entryIdFor(position), eventId: outcome.envelope.eventId, eventType: outcome.envelope.type, position,
      chainSeq: entries.length + 1, effectiveAt: outcome.envelope.occurredAt, bookedPeriod: booking.bookedPeriod,
      late: booking.late, rule: outcome.posting.rule, ruleVersion: outcome.posting.ruleVersion,
      payloadSha256: outcome.envelope.payloadSha256, subject: outcome.posting.subject, lines: outcome.posting.lines,
      prevHash,
    });
    entries.push(entry);
    prevHash = entry.hash;
    for (const [key, next] of outcome.posting.changes) state.set(key, encodeState(next));
    posted.set(entry.eventId, { payloadSha256: entry.payloadSha256, entryId: entry.entryId, position });
  }
  return { entries, quarantined };
}

const testApprovalKeys = approvalKeys(testTrustedKeys);

describe('the hash verify recomputes', () => {
  it('is the definition: sha256 of entryHashInput, even where the fast writer would differ', () => {
    // The fast writer trusts ids, hashes and times to need no JSON escaping; verify must not.
    const { entries } = postedEntries(generateEventStream({ seed: 3, rentals: 2, month: '2026-10', approve: testApprover }));
    const stored = entries[0]!;
    const odd = { ...stored, eventId: 'a"b\\c', effectiveAt: '2026-10-01T00:00:00.000000Z\n' };
    expect(entryHashInputFast(odd)).not.toBe(entryHashInput(odd));
    expect(recomputedHash(odd)).toBe(sha256Hex(entryHashInput(odd)));
    expect(recomputedHash(stored)).toBe(stored.hash);
  });

  it('equals the fast writer\'s on every entry of a large generated stream of every type, bad messages mixed in', () => {
    const lines = generateEventStream({ seed: 20261, rentals: 400, month: '2026-10', badMessages: true,
      approve: testApprover });
    const { entries, quarantined } = postedEntries(lines);
    expect(lines.length).toBeGreaterThan(3_000);
    expect(quarantined).toBeGreaterThan(0);
    expect(new Set(entries.map((e) => e.eventType))).toEqual(new Set(eventTypes));
    let lineCount = 0;
    for (const entry of entries) {
      const { hash, ...unsealed } = entry;
      const definition = entryHashInput(unsealed);
      if (entryHashInputFast(unsealed) !== definition) {
        expect.fail(`entry ${entry.entryId} (${entry.eventType}): the fast writer's bytes differ from the definition`);
      }
      expect(recomputedHash(unsealed)).toBe(hash);
      lineCount += entry.lines.length;
    }
    expect(lineCount).toBeGreaterThan(10_000);
  });
});
