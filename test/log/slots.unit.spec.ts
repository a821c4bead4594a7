// The handler slots a consumer shares among its partitions: never more holders than
// slots, a freed slot goes to the longest waiter, and a wait ended by the signal takes
// nothing.
import { describe, expect, it } from 'vitest';
import { Slots } from '../../src/log/slots.ts';

const never = new AbortController().signal;

describe('Slots', () => {
  it('holds at most its count, and hands a freed slot to the longest waiter', async () => {
    const slots = new Slots(2);
    const first = await slots.acquire(never);
    const second = await slots.acquire(never);
    const order: string[] = [];
    const third = slots.acquire(never).then((release) => { order.push('third'); return release; });
    const fourth = slots.acquire(never).then((release) => { order.push('fourth'); return release; });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    second!();
    second!(); // a second release of the same slot frees nothing more
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual(['third']);
    first!();
    (await third)!();
    (await fourth)!();
    expect(order).toEqual(['third', 'fourth']);
  });

  it('ends a wait with null when the signal aborts, and the slot stays for the next', async () => {
    const slots = new Slots(1);
    const held = await slots.acquire(never);
    const controller = new AbortController();
    const abandoned = slots.acquire(controller.signal);
    const patient = slots.acquire(never);
    controller.abort();
    expect(await abandoned).toBeNull();
    held!();
    expect(await patient).toBeTypeOf('function');
    expect(await slots.acquire(controller.signal)).toBeNull();
  });

  it('refuses a count below one', () => {
    expect(() => new Slots(0)).toThrow(/at least one slot/);
  });
});
