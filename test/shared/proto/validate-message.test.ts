import { expect } from 'chai';
import type { AgentMessage } from '../../../shared/src/messages.ts';
import { validateAgentMessage } from '../../../shared/src/proto/validate-message.ts';
import {
  sampleMessage,
  samplePayloads,
  sampleSnapshot,
} from '../../support/link-fixtures.ts';

function snapshotMessage(
  edit: (m: AgentMessage & { payload: { type: 'snapshot' } }) => void,
): AgentMessage {
  const message = sampleMessage('jasper', 1, {
    type: 'snapshot',
    snapshot: sampleSnapshot('jasper', 1, 1),
  }) as AgentMessage & { payload: { type: 'snapshot' } };
  edit(message);
  return message;
}

describe('validateAgentMessage()', () => {
  it('accepts every sample payload', () => {
    for (const payload of samplePayloads('jasper')) {
      expect(
        validateAgentMessage(sampleMessage('jasper', 3, payload)),
      ).to.equal(null);
    }
  });

  it('refuses a seq of 0', () => {
    expect(
      validateAgentMessage(
        sampleMessage('jasper', 0, samplePayloads('jasper')[2]!),
      ),
    ).to.match(/^seq must be/);
  });

  it('refuses a snapshot of another node', () => {
    expect(
      validateAgentMessage(
        snapshotMessage((m) => (m.payload.snapshot.node = 'onyx')),
      ),
    ).to.match(/^snapshot.node must equal/);
  });

  it('refuses utilization above 100 percent', () => {
    const problem = validateAgentMessage(
      snapshotMessage(
        (m) => (m.payload.snapshot.gpus[0]!.utilizationPercent.gpu = 101),
      ),
    );

    expect(problem).to.equal(
      'gpus.utilizationPercent.gpu must be between 0 and 100, got 101',
    );
  });

  it('refuses negative bytes', () => {
    expect(
      validateAgentMessage(
        snapshotMessage(
          (m) => (m.payload.snapshot.gpus[0]!.memory.usedBytes = -1),
        ),
      ),
    ).to.match(/usedBytes must be a whole number/);
  });

  it('refuses SLI counts that do not add up', () => {
    const payload = samplePayloads('jasper')[2]!;
    if (payload.type === 'sli') payload.sli.total += 1;

    expect(validateAgentMessage(sampleMessage('jasper', 1, payload))).to.match(
      /^sli.total must equal failed plus/,
    );
  });

  it('refuses a time before 2000', () => {
    const message = sampleMessage('jasper', 1, samplePayloads('jasper')[2]!);
    message.sentAtMs = 5;

    expect(validateAgentMessage(message)).to.match(/^sentAtMs must be a time/);
  });
});
