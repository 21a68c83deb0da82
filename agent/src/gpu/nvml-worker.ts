/**
 * Entry of the NVML worker thread (started by nvml-source.ts): runs the
 * session's operations, one at a time, and answers each with its id. A
 * call stuck in the driver blocks this thread only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NvmlOp } from './nvml-session.ts';
import { NvmlSession } from './nvml-session.ts';

// This thread's composition root: its one session lives as long as it.
const session = new NvmlSession(
  (workerData as { libraryPath: string }).libraryPath,
);

parentPort?.on('message', (message: { id: number; op: NvmlOp }) => {
  parentPort?.postMessage({ id: message.id, reply: session.run(message.op) });
});
