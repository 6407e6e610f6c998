import type { Clock } from '../../shared/fleet/index.js';

/** A clock that only moves when something sleeps on it; `waits` lists each sleep, in ms. */
export function virtualClock(): Clock & { waits: number[] } {
  let now = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  };
}
