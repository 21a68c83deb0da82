// A fake `nvidia-smi` for tests and the demo. It reads the fake GPU state
// file named by GPUWARDEN_FAKE_GPU_STATE (format: the header comment of
// test/fakes/gpu-state.ts; re-read here in plain JS so the program starts
// fast) and prints real-format output, modelled on the recorded fixtures
// in test/fixtures/nvidia-smi/ (an RTX 4090 `-q -x` with tabs, DOCTYPE v12):
//
//   nvidia-smi -q -x
//   nvidia-smi --query-gpu=F,... --format=csv[,noheader][,nounits]
//   nvidia-smi --query-compute-apps=F,... --format=csv[,noheader][,nounits]
//
// `init error=NVML_ERROR_…` prints the matching real error text with the
// real exit status; a `lost=1` GPU makes it fail like a GPU off the bus.
// `mig` records of a `mig=1` GPU become `<mig_device>` entries and a
// process's `gi=`/`ci=` its instance ids; `hostpid=1` pids count as alive.
// GPUWARDEN_FAKE_SMI_HANG_MS sleeps before answering (timeout tests);
// GPUWARDEN_FAKE_SMI_LOG appends `start <pid> <ms>` / `end <pid> <ms>`
// lines (tests that check runs never overlap). Dead or zombie pids hold
// no memory. Names are written as raw bytes, so a state file can make it
// print bytes that are not UTF-8, as drivers sometimes do.
import { Buffer } from 'node:buffer';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderComputeAppsCsv, renderQueryGpuCsv } from './render-csv.mjs';
import { renderXml } from './render-xml.mjs';

const MIB = 1024 * 1024;

/** Real texts and exit statuses of NVML init failures. */
const INIT_ERRORS = {
  NVML_ERROR_DRIVER_NOT_LOADED: [
    9,
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
  ],
  NVML_ERROR_LIB_RM_VERSION_MISMATCH: [
    18,
    'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: %DRIVER%\n',
  ],
  NVML_ERROR_NO_PERMISSION: [
    4,
    'Failed to initialize NVML: Insufficient Permissions\n',
  ],
  NVML_ERROR_LIBRARY_NOT_FOUND: [
    12,
    "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display Driver is properly installed and present in your system.\nPlease also try adding directory that contains libnvidia-ml.so to your system PATH.\n",
  ],
  NVML_ERROR_NOT_FOUND: [6, 'No devices were found\n'],
  NVML_ERROR_UNKNOWN: [255, 'Failed to initialize NVML: Unknown Error\n'],
};

/** Percent-decodes to a byte string (one char per byte, latin1). */
function decodeBytes(value) {
  return Buffer.from(
    value.replace(/%([0-9a-f]{2})/gi, (_, hex) =>
      String.fromCharCode(parseInt(hex, 16)),
    ),
    'latin1',
  ).toString('latin1');
}

function readState(file) {
  const state = {
    driver: '550.54.14',
    cuda: '12.4',
    init: null,
    gpus: [],
    procs: [],
    fails: [],
    migs: [],
  };
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [kind, ...pairs] = line.trim().split(/\s+/);
    const f = {};
    for (const pair of pairs) {
      const at = pair.indexOf('=');
      f[pair.slice(0, at)] = decodeBytes(pair.slice(at + 1));
    }
    if (kind === 'driver')
      Object.assign(state, { driver: f.version, cuda: f.cuda });
    else if (kind === 'init') state.init = f.error ?? null;
    else if (kind === 'gpu') state.gpus.push(f);
    else if (kind === 'proc') state.procs.push(f);
    else if (kind === 'fail') state.fails.push(f);
    else if (kind === 'mig') state.migs.push(f);
  }
  return state;
}

function isAlive(pid) {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    const text = readFileSync(stat, 'latin1');
    return text[text.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** The GPUs as the renderers see them: numbers in MiB, live processes. */
function viewOf(state) {
  // A pid of another PID namespace (hostpid=1) cannot be checked here.
  const live = state.procs.filter(
    (p) => p.hostpid === '1' || isAlive(Number(p.pid)),
  );
  return state.gpus.map((g) => {
    const procs = live.filter((p) => p.gpu === g.index);
    const usedBytes = procs.reduce(
      (sum, p) => sum + (p.used === 'unknown' ? 0 : Number(p.used)),
      Number(g.baseline ?? 0),
    );
    const totalMib = Math.floor(Number(g.total) / MIB);
    const reservedMib = Math.round(Number(g.reserved ?? 0) / MIB);
    const usedMib = Math.round(usedBytes / MIB);
    const fails = new Map(
      state.fails
        .filter((f) => f.gpu === g.index)
        .map((f) => [f.call, f.error]),
    );
    const migs = state.migs
      .filter((m) => m.gpu === g.index && g.mig === '1')
      .map((m) => migViewOf(m, procs));
    return {
      ...g,
      migs,
      totalMib,
      reservedMib,
      usedMib,
      freeMib: Math.max(0, totalMib - reservedMib - usedMib),
      procs,
      fails,
    };
  });
}

/** A MIG device: its memory is its baseline plus its GPU instance's processes. */
function migViewOf(mig, procs) {
  const usedBytes = procs
    .filter((p) => p.gi === mig.gi)
    .reduce(
      (sum, p) => sum + (p.used === 'unknown' ? 0 : Number(p.used)),
      Number(mig.baseline ?? 0),
    );
  const totalMib = Math.floor(Number(mig.total) / MIB);
  const usedMib = Math.round(usedBytes / MIB);
  return {
    ...mig,
    totalMib,
    usedMib,
    freeMib: Math.max(0, totalMib - usedMib),
  };
}

function parseArgs(argv) {
  const args = {
    xml: false,
    query: false,
    queryGpu: null,
    queryApps: null,
    format: '',
  };
  for (const arg of argv) {
    if (arg === '-x' || arg === '--xml-format') args.xml = true;
    else if (arg === '-q' || arg === '--query') args.query = true;
    else if (arg.startsWith('--query-gpu='))
      args.queryGpu = arg.slice(12).split(',');
    else if (arg.startsWith('--query-compute-apps='))
      args.queryApps = arg.slice(21).split(',');
    else if (arg.startsWith('--format=')) args.format = arg.slice(9);
  }
  return args;
}

function finish(code, text) {
  process.stdout.write(Buffer.from(text, 'latin1'), () => {
    logRun('end');
    process.exit(code);
  });
}

function logRun(what) {
  const log = process.env.GPUWARDEN_FAKE_SMI_LOG;
  if (log) appendFileSync(log, `${what} ${process.pid} ${Date.now()}\n`);
}

async function main() {
  logRun('start');
  const hangMs = Number(process.env.GPUWARDEN_FAKE_SMI_HANG_MS ?? 0);
  if (hangMs > 0) await sleep(hangMs);
  const file = process.env.GPUWARDEN_FAKE_GPU_STATE;
  if (!file || !existsSync(file)) {
    return finish(9, INIT_ERRORS.NVML_ERROR_DRIVER_NOT_LOADED[1]);
  }
  const state = readState(file);
  if (state.init) {
    const [code, text] =
      INIT_ERRORS[state.init] ?? INIT_ERRORS.NVML_ERROR_UNKNOWN;
    return finish(code, text.replace('%DRIVER%', state.driver));
  }
  const lost = state.gpus.find((g) => g.lost === '1');
  if (lost) {
    return finish(
      15,
      `Unable to determine the device handle for GPU ${lost.pci}: GPU is lost.  Reboot the system to recover this GPU\n`,
    );
  }
  const args = parseArgs(process.argv.slice(2));
  const gpus = viewOf(state);
  const format = {
    header: !args.format.includes('noheader'),
    units: !args.format.includes('nounits'),
  };
  if (args.query && args.xml) return finish(0, renderXml(state, gpus));
  if (args.queryGpu)
    return finish(...renderQueryGpuCsv(state, gpus, args.queryGpu, format));
  if (args.queryApps)
    return finish(...renderComputeAppsCsv(gpus, args.queryApps, format));
  return finish(
    2,
    "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n",
  );
}

await main();
