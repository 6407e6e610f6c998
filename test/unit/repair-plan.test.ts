import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REPAIR_MIN_AGE_MS,
  formatAge,
  pendingVersion,
  planRepair,
  RepairAction,
} from '../../shared/repair/index.js';

const NOW = new Date('2026-11-30T12:00:00Z');
const HOUR = 3_600_000;
const stuck = { cur: ['AWSCURRENT'], pend: ['AWSPENDING'], old: ['AWSPREVIOUS'] };

function facts(overrides: Partial<Parameters<typeof planRepair>[0]> = {}) {
  return {
    versions: stuck,
    pendingHoldsValue: true,
    pendingCreatedAt: new Date(NOW.getTime() - 2 * HOUR),
    now: NOW,
    minAgeMs: DEFAULT_REPAIR_MIN_AGE_MS,
    ...overrides,
  };
}

describe('pendingVersion', () => {
  it('finds the version staged AWSPENDING and says whether it is also AWSCURRENT', () => {
    // Prepare / Act / Assess
    expect(pendingVersion(stuck)).toEqual({ versionId: 'pend', alsoCurrent: false });
    expect(pendingVersion({ a: ['AWSCURRENT', 'AWSPENDING'] })).toEqual({
      versionId: 'a',
      alsoCurrent: true,
    });
    expect(pendingVersion({ a: ['AWSCURRENT'], b: ['AWSPREVIOUS'] })).toBeUndefined();
  });
});

describe('planRepair', () => {
  it('plans nothing when no version is staged AWSPENDING', () => {
    const plan = planRepair(facts({ versions: { cur: ['AWSCURRENT'] } }));

    expect(plan).toEqual({ action: RepairAction.NONE, steps: [], reason: 'no version is staged AWSPENDING' });
  });

  it('unlabels a pending version that holds no value (RotateSecret placeholder)', () => {
    const plan = planRepair(facts({ pendingHoldsValue: false }));

    expect(plan.action).toBe(RepairAction.UNLABEL_PLACEHOLDER);
    expect(plan.versionId).toBe('pend');
    expect(plan.steps).toEqual([]);
    expect(plan.ageMs).toBe(2 * HOUR);
    expect(plan.reason).toMatch(/holds no value.*createSecret never ran/);
  });

  it('finishes a pending version that holds a value, with setSecret, testSecret and finishSecret, never discarding it', () => {
    const plan = planRepair(facts({ pendingHoldsValue: true }));

    expect(plan.action).toBe(RepairAction.FINISH_ROTATION);
    expect(plan.steps).toEqual(['setSecret', 'testSecret', 'finishSecret']);
    expect(plan.reason).toMatch(/only working credential.*never discarded/);
  });

  it('completes an interrupted finishSecret when AWSPENDING stayed on the AWSCURRENT version', () => {
    const plan = planRepair(facts({ versions: { v: ['AWSCURRENT', 'AWSPENDING'], o: ['AWSPREVIOUS'] } }));

    expect(plan.action).toBe(RepairAction.COMPLETE_FINISH);
    expect(plan.steps).toEqual(['finishSecret']);
  });

  it('waits on a stuck rotation younger than the minimum age', () => {
    const plan = planRepair(facts({ pendingCreatedAt: new Date(NOW.getTime() - 10 * 60_000) }));

    expect(plan.action).toBe(RepairAction.WAIT);
    expect(plan.steps).toEqual([]);
    expect(plan.reason).toContain('10 min old, younger than the 60 min');
  });

  it('waits when the pending version has no known creation date (fails closed)', () => {
    const plan = planRepair(facts({ pendingCreatedAt: undefined, pendingHoldsValue: false }));

    expect(plan.action).toBe(RepairAction.WAIT);
    expect(plan.reason).toMatch(/no known creation date/);
  });

  it('repairs at any age when the minimum age is 0', () => {
    const plan = planRepair(facts({ pendingCreatedAt: undefined, pendingHoldsValue: false, minAgeMs: 0 }));

    expect(plan.action).toBe(RepairAction.UNLABEL_PLACEHOLDER);
    expect(plan.ageMs).toBeUndefined();
  });

  it('defaults to one hour of minimum age', () => {
    expect(DEFAULT_REPAIR_MIN_AGE_MS).toBe(HOUR);
  });
});

describe('formatAge', () => {
  it('uses the largest whole unit', () => {
    expect([45_000, 12 * 60_000, 3 * HOUR, 50 * HOUR].map(formatAge)).toEqual([
      '45 s',
      '12 min',
      '3 h',
      '2 d',
    ]);
  });
});
