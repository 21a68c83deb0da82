import { expect } from 'chai';
import { IdentityMemory } from '../../../shared/src/proto/identity-memory.ts';
import {
  IDENTITY_GENERATION_MS,
  MAX_IDENTITIES_PER_GENERATION,
} from '../../../shared/src/proto/process-identity.ts';
import type { GpuProcess } from '../../../shared/src/snapshot.ts';

const T0 = Date.parse('2026-02-28T14:00:00.000Z');

describe('IdentityMemory', () => {
  const process = (pid: number, startedAt: string | null): GpuProcess => ({
    pid,
    name: 'python3',
    type: 'compute',
    usedBytes: 1,
    user: 'svc',
    command: `python3 worker ${pid}`,
    startedAt,
    unit: 'infer.service',
  });
  const START = '2026-02-28T09:00:00.000Z';

  it('recalls only committed identities of the same start', () => {
    const memory = new IdentityMemory();
    memory.stage(process(7, START));
    expect(memory.recall(process(7, START))).to.equal(null);
    memory.commit(T0);
    expect(memory.recall(process(7, START))).to.deep.equal({
      name: 'python3',
      user: 'svc',
      command: 'python3 worker 7',
      unit: 'infer.service',
    });
    expect(memory.recall(process(7, '2026-02-28T10:00:00.000Z'))).to.equal(
      null,
    );
    memory.stage(process(8, START));
    memory.discard();
    memory.commit(T0);
    expect(memory.recall(process(8, START))).to.equal(null);
  });

  it('forgets identities not sent again within two generations', () => {
    const memory = new IdentityMemory();
    memory.stage(process(7, START));
    memory.commit(T0);
    memory.commit(T0 + IDENTITY_GENERATION_MS);
    expect(memory.recall(process(7, START))).to.not.equal(null);
    memory.commit(T0 + 2 * IDENTITY_GENERATION_MS);
    expect(memory.recall(process(7, START))).to.equal(null);
    expect(memory.size).to.equal(0);
  });

  it('keeps at most a bounded number per generation', () => {
    const memory = new IdentityMemory();
    for (let pid = 1; pid <= MAX_IDENTITIES_PER_GENERATION + 10; pid += 1) {
      memory.stage(process(pid, START));
    }
    memory.commit(T0);
    expect(memory.size).to.equal(MAX_IDENTITIES_PER_GENERATION);
  });
});
