// `--query-gpu` and `--query-compute-apps` CSV output of the fake, as the
// real program prints it: `, ` between cells, units in the header
// (`memory.used [MiB]`) and, unless `nounits`, after each value; an
// unavailable value is bracketed (`[N/A]`, `[Not Supported]`).

const CSV_ERROR_TEXT = {
  NVML_ERROR_NOT_SUPPORTED: '[Not Supported]',
  NVML_ERROR_NO_PERMISSION: '[Insufficient Permissions]',
  NVML_ERROR_UNKNOWN: '[Unknown Error]',
  NVML_ERROR_DEPRECATED: '[Requested functionality has been deprecated]',
  NVML_ERROR_GPU_IS_LOST: '[GPU is lost]',
};

const MEMORY_CALLS = ['nvmlDeviceGetMemoryInfo', 'nvmlDeviceGetMemoryInfo_v2'];

/** Field → [unit or null, calls that can fail it, value of a GPU view]. */
const GPU_FIELDS = {
  timestamp: [null, [], () => '2026/02/28 14:00:00.000'],
  driver_version: [null, [], (g, s) => s.driver],
  count: [null, [], (g, s, all) => String(all.length)],
  index: [null, [], (g) => g.index],
  uuid: [null, [], (g) => g.uuid],
  name: [null, [], (g) => g.name],
  'pci.bus_id': [null, [], (g) => g.pci],
  'memory.total': ['MiB', MEMORY_CALLS, (g) => g.totalMib],
  'memory.reserved': ['MiB', MEMORY_CALLS, (g) => g.reservedMib],
  'memory.used': ['MiB', MEMORY_CALLS, (g) => g.usedMib],
  'memory.free': ['MiB', MEMORY_CALLS, (g) => g.freeMib],
  'utilization.gpu': ['%', ['nvmlDeviceGetUtilizationRates'], (g) => g.util],
  'utilization.memory': [
    '%',
    ['nvmlDeviceGetUtilizationRates'],
    (g) => g.memutil,
  ],
  'temperature.gpu': [null, ['nvmlDeviceGetTemperature'], (g) => g.temp],
  'power.draw': [
    'W',
    ['nvmlDeviceGetPowerUsage'],
    (g) => (Number(g.powermw) / 1000).toFixed(2),
  ],
  'mig.mode.current': [
    null,
    ['nvmlDeviceGetMigMode'],
    (g) => (g.mig === '1' ? 'Enabled' : g.mig === '0' ? 'Disabled' : '[N/A]'),
  ],
};

const APP_FIELDS = {
  timestamp: [null, () => '2026/02/28 14:00:00.000'],
  gpu_name: [null, (p, g) => g.name],
  gpu_bus_id: [null, (p, g) => g.pci],
  gpu_serial: [null, () => '[N/A]'],
  gpu_uuid: [null, (p, g) => g.uuid],
  pid: [null, (p) => p.pid],
  process_name: [null, (p) => p.name],
  used_gpu_memory: [
    'MiB',
    (p) =>
      p.used === 'unknown' ? '[N/A]' : Math.round(Number(p.used) / 1048576),
  ],
};
const APP_ALIASES = { name: 'process_name', used_memory: 'used_gpu_memory' };

function invalidField(name) {
  return [2, `Field "${name}" is not a valid field to query.\n\n`];
}

function cell(value, unit, format) {
  const text = String(value);
  return unit && format.units && !text.startsWith('[')
    ? `${text} ${unit}`
    : text;
}

function headerOf(fields, units) {
  return fields.map((f) => (units[f] ? `${f} [${units[f]}]` : f)).join(', ');
}

/** `--query-gpu` output: [exit status, text]. */
export function renderQueryGpuCsv(state, gpus, fields, format) {
  const bad = fields.find((f) => !GPU_FIELDS[f]);
  if (bad) return invalidField(bad);
  const units = Object.fromEntries(fields.map((f) => [f, GPU_FIELDS[f][0]]));
  const rows = gpus.map((g) =>
    fields
      .map((f) => {
        const [unit, calls, read] = GPU_FIELDS[f];
        const failed = calls.map((c) => g.fails.get(c)).find(Boolean);
        if (failed) return CSV_ERROR_TEXT[failed] ?? '[N/A]';
        return cell(read(g, state, gpus), unit, format);
      })
      .join(', '),
  );
  const lines = format.header ? [headerOf(fields, units), ...rows] : rows;
  return [0, lines.map((l) => `${l}\n`).join('')];
}

/** `--query-compute-apps` output: compute (and C+G) processes only. */
export function renderComputeAppsCsv(gpus, requested, format) {
  const fields = requested.map((f) => APP_ALIASES[f] ?? f);
  const bad = fields.find((f) => !APP_FIELDS[f]);
  if (bad) return invalidField(bad);
  const units = Object.fromEntries(fields.map((f) => [f, APP_FIELDS[f][0]]));
  const rows = gpus.flatMap((g) =>
    g.procs
      .filter((p) => p.type !== 'graphics')
      .map((p) =>
        fields
          .map((f) => cell(APP_FIELDS[f][1](p, g), APP_FIELDS[f][0], format))
          .join(', '),
      ),
  );
  const lines = format.header ? [headerOf(fields, units), ...rows] : rows;
  return [0, lines.map((l) => `${l}\n`).join('')];
}
