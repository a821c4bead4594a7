// Decision sources answered from memory, for deciding batches with no database: the
// decisions floor (bench/floors.ts) and the hot path's equality test. What a batch
// leaves behind (its states at their next version, its posted events) is applied as the
// database would after the commit.
import type { PostedEvent } from '../ledger/project.ts';
import type { BatchWrites, DecisionSources, StateSlot } from './project-batch.ts';

export class MemoryDecisionSources {
  readonly posted = new Map<string, PostedEvent>();
  private readonly states = new Map<string, { state: StateSlot['state']; version: number }>();
  readonly sources: DecisionSources;

  constructor(closedPeriods: ReadonlySet<string> = new Set()) {
    const { posted, states } = this;
    this.sources = {
      closedPeriods: async () => new Set(closedPeriods),
      async postedEvents(eventIds, into) {
        for (const id of eventIds) {
          const event = posted.get(id);
          if (event !== undefined) into.set(id, event);
        }
      },
      async states(stateKeys, into) {
        for (const key of stateKeys) {
          const slot = states.get(key);
          if (slot !== undefined) into.set(key, { ...slot, dirty: false });
        }
      },
    };
  }

  /** As a committed batch leaves the database: changed states at their next version, its events posted. */
  apply(writes: BatchWrites): void {
    // forEach: a for…of over a map's entries makes an array per entry.
    writes.states.forEach((slot, key) => {
      if (slot.dirty) this.states.set(key, { state: slot.state, version: slot.version + 1 });
    });
    writes.posted.forEach((event, id) => this.posted.set(id, event));
  }
}
