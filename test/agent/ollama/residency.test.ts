import { expect } from 'chai';
import type { RunningModel } from '../../../agent/src/ollama/api.ts';
import {
  INITIAL_RESIDENCY,
  observeResidency,
  residencyStatus,
} from '../../../agent/src/ollama/residency.ts';
import type {
  ResidencyObservation,
  ResidencyState,
} from '../../../agent/src/ollama/residency.ts';

const NOW = Date.parse('2026-02-28T14:32:00Z');
const GIB = 2 ** 30;
const options = {
  url: 'http://127.0.0.1:11434',
  model: 'qwen2.5:32b',
  reloadWarningMs: 120_000,
};

function model(over: Partial<RunningModel> = {}): RunningModel {
  return {
    name: 'qwen2.5:32b',
    sizeBytes: 20 * GIB,
    sizeVramBytes: 20 * GIB,
    expiresAtMs: Date.parse('2318-01-01T00:00:00Z'),
    pinned: true,
    contextLength: 8192,
    digest: null,
    ...over,
  };
}

function run(observations: ResidencyObservation[]): {
  state: ResidencyState;
  kinds: string[];
  messages: string[];
} {
  let state = INITIAL_RESIDENCY;
  const kinds: string[] = [];
  const messages: string[] = [];
  for (const observation of observations) {
    const next = observeResidency(state, observation, options, NOW);
    state = next.state;
    kinds.push(...next.events.map((e) => `${e.kind}:${e.status}`));
    messages.push(...next.events.map((e) => e.message));
  }
  return { state, kinds, messages };
}

const ps = (...models: RunningModel[]): ResidencyObservation => ({
  kind: 'ps',
  models,
  version: '0.12.6',
});

describe('observeResidency()', () => {
  it('emits a state on the first poll and nothing while it holds', () => {
    const { kinds } = run([ps(model()), ps(model()), ps(model())]);

    expect(kinds).to.deep.equal(['model_resident:ok']);
  });

  it('says how much of a partly offloaded model is on the GPU', () => {
    const { kinds, messages, state } = run([
      ps(model()),
      ps(model({ sizeVramBytes: 18.5 * GIB })),
    ]);

    expect(kinds).to.deep.equal([
      'model_resident:ok',
      'model_partly_on_cpu:degraded',
    ]);
    expect(messages[1]).to.equal(
      'qwen2.5:32b partly on CPU (18.5 GiB of 20.0 GiB on GPU)',
    );
    expect(residencyStatus(state, 'qwen2.5:32b', 2400)).to.deep.equal({
      reachable: true,
      version: '0.12.6',
      model: 'qwen2.5:32b',
      resident: true,
      sizeBytes: 20 * GIB,
      sizeVramBytes: 18.5 * GIB,
      offloadedBytes: 1.5 * GIB,
      expiresAtMs: Date.parse('2318-01-01T00:00:00Z'),
      lastLatencyMs: 2400,
    });
  });

  it('reports a model that left, a server that went away, and recovery', () => {
    const down = {
      kind: 'unreachable' as const,
      failure: {
        kind: 'refused' as const,
        status: null,
        message: 'connection refused',
      },
    };

    const { kinds, messages, state } = run([
      ps(model()),
      ps(),
      down,
      down,
      ps(model()),
    ]);

    expect(kinds).to.deep.equal([
      'model_resident:ok',
      'model_not_resident:degraded',
      'ollama_unreachable:down',
      'model_resident:ok',
    ]);
    expect(messages[2]).to.equal(
      'Ollama at http://127.0.0.1:11434 is unreachable: connection refused',
    );
    expect(state.phase).to.equal('resident');
  });

  it('warns once when the idle timer is about to unload the model', () => {
    const soon = model({ pinned: false, expiresAtMs: NOW + 90_000 });
    const later = model({ pinned: false, expiresAtMs: NOW + 600_000 });

    const { kinds, messages } = run([ps(later), ps(soon), ps(soon)]);

    expect(kinds).to.deep.equal(['model_resident:ok', 'reload_due:degraded']);
    expect(messages[1]).to.match(
      /^qwen2\.5:32b reload due at 2026-02-28T14:33:30\.000Z/,
    );
  });

  it('reads nothing as unknown before the first poll', () => {
    expect(residencyStatus(INITIAL_RESIDENCY, 'qwen2.5:32b', null)).to.include({
      reachable: false,
      resident: null,
      sizeVramBytes: null,
    });
  });
});
