import { expect } from 'chai';
import type { IncidentChange } from '../../../collector/src/incidents/manager-types.ts';
import type { FiringRule } from '../../../collector/src/slo/alert-state.ts';
import { createHarness, play } from './support/harness.ts';
import type { Harness } from './support/harness.ts';
import {
  CRITICAL_BURN,
  HIGH_BURN,
  ms,
  verdict,
} from './support/jasper-story.ts';
import type { StoryStep } from './support/jasper-story.ts';

const MINUTE_MS = 60_000;
const T0 = ms('2026-02-28T14:00:00Z');

/** One verdict a minute from T0: `plan[i]` is what minute i says. */
function minutes(
  plan: (FiringRule | null | 'no_data' | 'no_traffic')[],
  startMinute = 0,
): StoryStep[] {
  return plan.map((what, i) => {
    const atMs = T0 + (startMinute + i) * MINUTE_MS;
    const state =
      what === 'no_data' || what === 'no_traffic'
        ? verdict(atMs, null, what)
        : verdict(atMs, what);
    return { atMs, messages: [], states: [state] };
  });
}

const clear = (n: number): null[] => new Array<null>(n).fill(null);
const high = (n: number): FiringRule[] =>
  new Array<FiringRule>(n).fill(HIGH_BURN(3.5));

describe('IncidentManager', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness({
      holdMs: 15 * MINUTE_MS,
      reopenWindowMs: 60 * MINUTE_MS,
    });
  });

  afterEach(() => h.cleanup());

  describe('onAlertStates()', () => {
    it('opens one incident for a flapping (crash-looping) rule and resolves it once clear for the hold', async () => {
      const flapping = Array.from({ length: 30 }, (_, i) =>
        i % 4 < 2 ? HIGH_BURN(3.5) : null,
      );

      await play(h, minutes([...flapping, ...clear(20)]));

      const incidents = h.manager.list();
      expect(incidents).to.have.length(1);
      expect(incidents[0]!.status).to.equal('resolved');
      expect(incidents[0]!.openedAt).to.equal('2026-02-28T14:00:00Z');
      expect(incidents[0]!.resolvedAt).to.equal('2026-02-28T14:30:00Z');
      expect(
        incidents[0]!.timeline.filter((e) => e.kind === 'alert_refired'),
      ).to.have.length(7);
    });

    it('reopens the same incident when the rule fires again within the reopen window', async () => {
      await play(h, minutes([...high(5), ...clear(16), ...high(2)]));

      const [incident] = h.manager.list();
      expect(h.manager.list()).to.have.length(1);
      expect(incident!.status).to.equal('open');
      expect(incident!.reopenCount).to.equal(1);
      expect(incident!.resolvedAt).to.equal(null);
      expect(incident!.timeline.map((e) => e.kind)).to.include.members([
        'resolved',
        'reopened',
      ]);
    });

    it('closes after the reopen window and opens a new incident, linked to the old one', async () => {
      await play(h, minutes([...high(5), ...clear(80), ...high(1)]));

      const [newer, older] = h.manager.list();
      expect(older!.status).to.equal('closed');
      expect(older!.closedAt).to.equal('2026-02-28T15:20:00Z');
      expect(newer!.status).to.equal('open');
      expect(newer!.id).to.not.equal(older!.id);
      expect(newer!.relatedIncidents).to.deep.equal([older!.id]);
    });

    it('raises the severity for a faster tier and never lowers it', async () => {
      await play(h, minutes([HIGH_BURN(3.2), CRITICAL_BURN(15), HIGH_BURN(4)]));

      const [incident] = h.manager.list();
      expect(incident!.severity).to.equal('SEV1');
      expect(incident!.trigger).to.include({
        rule: 'slo_critical_burn',
        burnRate: 15,
      });
      expect(incident!.peakBurnRate).to.equal(15);
      expect(h.manager.list()).to.have.length(1);
    });

    it('never resolves on missing data and starts the hold again when data returns', async () => {
      const silent = new Array<'no_data'>(120).fill('no_data');
      const quiet = new Array<'no_traffic'>(30).fill('no_traffic');

      await play(h, minutes([...high(3), ...silent, ...quiet]));
      expect(h.manager.list()[0]!.status).to.equal('open');

      await play(h, minutes(clear(16), 153));
      const [incident] = h.manager.list();
      expect(incident!.status).to.equal('resolved');
      expect(incident!.resolvedAt).to.equal('2026-02-28T16:33:00Z');
      expect(
        incident!.timeline.filter((e) => e.kind === 'data_missing'),
      ).to.have.length(1);
    });

    it('keeps the open date in the ID, in UTC', async () => {
      await play(h, minutes(high(1)));

      expect(h.manager.list()[0]!.id).to.match(/^INC-20260228-[0-9a-f]{4}$/);
    });
  });

  describe('ack(), resolve() and addNote()', () => {
    it('answers not_found for an unknown ID', async () => {
      const result = await h.manager.ack('INC-20990101-0000', 'ops');

      expect(result).to.deep.include({ ok: false });
      expect(!result.ok && result.error.code).to.equal('not_found');
    });

    it('acknowledges once and refuses a second ack as an invalid transition', async () => {
      await play(h, minutes(high(1)));
      const id = h.manager.list()[0]!.id;

      const first = await h.manager.ack(id, 'ops', 'looking');
      const second = await h.manager.ack(id, 'ops');

      expect(first.ok && first.value.status).to.equal('acknowledged');
      expect(first.ok && first.value.acknowledgedBy).to.equal('ops');
      expect(!second.ok && second.error.code).to.equal('invalid_transition');
    });

    it('resolves by hand and ignores the still-draining rule until it has been clear', async () => {
      await play(h, minutes(high(3)));
      const id = h.manager.list()[0]!.id;
      await h.clock.advance(30_000);

      const resolved = await h.manager.resolve(id, 'ops', 'killed the tunnel');
      await play(h, minutes([...high(3), null, HIGH_BURN(3.3)], 3));

      expect(resolved.ok && resolved.value.resolvedAt).to.equal(
        '2026-02-28T14:02:30Z',
      );
      const incident = h.manager.get(id)!;
      expect(incident.reopenCount).to.equal(1);
      expect(incident.timeline.find((e) => e.kind === 'resolved')).to.include({
        actor: 'ops',
      });
      const again = await h.manager.resolve(id, 'ops');
      expect(again.ok).to.equal(true);
      expect((await h.manager.resolve(id, 'ops')).ok).to.equal(false);
    });

    it('adds notes to the timeline under the author', async () => {
      await play(h, minutes(high(1)));
      const id = h.manager.list()[0]!.id;

      await h.manager.addNote(id, 'alice', 'tunnel belongs to the dev box');

      const note = h.manager.get(id)!.timeline.find((e) => e.kind === 'note');
      expect(note).to.include({
        actor: 'alice',
        text: 'tunnel belongs to the dev box',
      });
    });
  });

  describe('onChange()', () => {
    it('tells listeners about lifecycle changes until they unsubscribe', async () => {
      const seen: IncidentChange['kind'][] = [];
      const stop = h.manager.onChange((change) => seen.push(change.kind));

      await play(h, minutes([...high(1), ...clear(16)]));
      stop();
      await play(h, minutes(high(1), 17));

      expect(seen).to.deep.equal(['opened', 'cleared', 'resolved']);
    });
  });

  describe('restart', () => {
    it('continues the hold across a restart with nothing lost', async () => {
      await play(h, minutes([...high(2), ...clear(5)]));
      await h.manager.close();

      const restarted = await h.reopen();
      await play(h, minutes(clear(11), 7), restarted);

      const [incident] = restarted.list();
      expect(restarted.list()).to.have.length(1);
      expect(incident!.status).to.equal('resolved');
      expect(incident!.resolvedAt).to.equal('2026-02-28T14:02:00Z');
    });
  });
});
