/**
 * Runs the fake Ollama as its own process, for the demo:
 *
 *   node --import tsx test/fakes/fake-ollama-main.ts --state F --model M
 *     [--port P] [--log F] [--model-bytes 20GiB] [--gpu 0] [--pid N]
 *     [--no-reload] [--headroom 1GiB] [--not-loaded] [--keep-alive 5m]
 *     [--latency-model uniform|per-token]
 *
 * Prints `fake-ollama listening on <url>` once it accepts requests; stops
 * on SIGTERM or SIGINT. `--pid self` means this process's own pid.
 */
import { parseArgs } from 'node:util';
import { parseBytes, parseDuration } from '../../shared/src/units.ts';
import { startFakeOllama } from './fake-ollama.ts';

const { values } = parseArgs({
  options: {
    state: { type: 'string' },
    model: { type: 'string', default: 'qwen2.5:32b' },
    port: { type: 'string', default: '11434' },
    log: { type: 'string' },
    'model-bytes': { type: 'string', default: '21834240000' },
    gpu: { type: 'string', default: '0' },
    pid: { type: 'string' },
    'no-reload': { type: 'boolean', default: false },
    headroom: { type: 'string', default: '1GiB' },
    'not-loaded': { type: 'boolean', default: false },
    'keep-alive': { type: 'string' },
    'latency-model': { type: 'string', default: 'uniform' },
  },
});

if (!values.state) {
  console.error(
    'fake-ollama: --state FILE is required (the fake GPU state file)',
  );
  process.exit(2);
}

const pid =
  values.pid === 'self'
    ? process.pid
    : values.pid
      ? Number(values.pid)
      : undefined;
const fake = await startFakeOllama({
  stateFile: values.state,
  model: values.model,
  modelBytes: parseBytes(values['model-bytes']) ?? 21834240000,
  gpuIndex: Number(values.gpu),
  port: Number(values.port),
  logFile: values.log,
  pid,
  reloadOnFreeVram: !values['no-reload'],
  headroomBytes: parseBytes(values.headroom) ?? 2 ** 30,
  loaded: !values['not-loaded'],
  keepAliveMs: values['keep-alive']
    ? parseDuration(values['keep-alive'])
    : null,
  latencyModel:
    values['latency-model'] === 'per-token' ? 'per-token' : 'uniform',
});
console.log(`fake-ollama listening on ${fake.url}`);

const shutdown = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
