import { loadLinkProto } from '../shared/src/proto/link-proto.ts';
import {
  decodeAgentMessage,
  encodeAgentMessage,
} from '../shared/src/proto/message-codec.ts';
import {
  IdentityElider,
  IdentityMemory,
} from '../shared/src/proto/process-identity.ts';
import { sampleSnapshot } from '../test/support/link-fixtures.ts';
const proto = loadLinkProto();
const elider = new IdentityElider();
const T0 = Date.parse('2026-02-28T14:00:00.000Z');
const s = sampleSnapshot('n1');
const msg = encodeAgentMessage(
  proto,
  {
    node: 'n1',
    seq: 1,
    sentAtMs: T0,
    payload: { type: 'snapshot', snapshot: s },
  },
  elider,
);
for (let k = 0; k < 3; k++) {
  const full = 3000;
  let t = performance.now();
  for (let i = 0; i < full; i++) {
    const m = new IdentityMemory();
    decodeAgentMessage(proto, msg, m);
    m.discard();
  }
  console.log(
    'full decode',
    (((performance.now() - t) * 1000) / full).toFixed(1),
    'us/msg',
  );
  t = performance.now();
  for (let i = 0; i < full; i++) {
    const m = new IdentityMemory();
    decodeAgentMessage(proto, msg, m);
    m.commit(T0);
  }
  console.log(
    'full decode+commit',
    (((performance.now() - t) * 1000) / full).toFixed(1),
    'us/msg',
  );
  t = performance.now();
  for (let i = 0; i < full; i++) {
    decodeAgentMessage(proto, msg, null);
  }
  console.log(
    'full decode no memory',
    (((performance.now() - t) * 1000) / full).toFixed(1),
    'us/msg',
  );
}
