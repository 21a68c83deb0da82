// `nvidia-smi -q -x` output of the fake, laid out as the real program does
// (tabs, DOCTYPE v12, open/close pairs for empty lists), with the elements
// of the recorded RTX 4090 capture that gpuwarden and similar tools read.
// All strings are byte strings (latin1), see fake-nvidia-smi.mjs.

/** Text nvidia-smi prints in XML for an NVML error of one field. */
const XML_ERROR_TEXT = {
  NVML_ERROR_NOT_SUPPORTED: 'N/A',
  NVML_ERROR_NO_PERMISSION: 'Insufficient Permissions',
  NVML_ERROR_UNKNOWN: 'Unknown Error',
  NVML_ERROR_DEPRECATED: 'Requested functionality has been deprecated',
  NVML_ERROR_GPU_IS_LOST: 'GPU is lost',
};

const MEMORY_CALLS = ['nvmlDeviceGetMemoryInfo', 'nvmlDeviceGetMemoryInfo_v2'];

function escapeXml(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** The value, or the error text when the state fails one of `calls`. */
function field(gpu, calls, value) {
  for (const call of calls) {
    const error = gpu.fails.get(call);
    if (error) return XML_ERROR_TEXT[error] ?? 'N/A';
  }
  return value;
}

function migText(mig) {
  return mig === '1' ? 'Enabled' : mig === '0' ? 'Disabled' : 'N/A';
}

function processXml(p) {
  const type = p.type === 'graphics' ? 'G' : p.type === 'both' ? 'C+G' : 'C';
  const used =
    p.used === 'unknown'
      ? 'N/A'
      : `${Math.round(Number(p.used) / 1048576)} MiB`;
  return [
    '\t\t\t<process_info>',
    `\t\t\t\t<gpu_instance_id>${p.gi ?? 'N/A'}</gpu_instance_id>`,
    `\t\t\t\t<compute_instance_id>${p.ci ?? 'N/A'}</compute_instance_id>`,
    `\t\t\t\t<pid>${p.pid}</pid>`,
    `\t\t\t\t<type>${type}</type>`,
    `\t\t\t\t<process_name>${escapeXml(p.name ?? '')}</process_name>`,
    `\t\t\t\t<used_memory>${used}</used_memory>`,
    '\t\t\t</process_info>',
  ];
}

/** One `<mig_device>` as driver 535 writes it (no UUID in the XML). */
function migXml(m) {
  return [
    '\t\t\t<mig_device>',
    `\t\t\t\t<index>${m.index}</index>`,
    `\t\t\t\t<gpu_instance_id>${m.gi}</gpu_instance_id>`,
    `\t\t\t\t<compute_instance_id>${m.ci}</compute_instance_id>`,
    '\t\t\t\t<fb_memory_usage>',
    `\t\t\t\t\t<total>${m.totalMib} MiB</total>`,
    '\t\t\t\t\t<reserved>0 MiB</reserved>',
    `\t\t\t\t\t<used>${m.usedMib} MiB</used>`,
    `\t\t\t\t\t<free>${m.freeMib} MiB</free>`,
    '\t\t\t\t</fb_memory_usage>',
    '\t\t\t</mig_device>',
  ];
}

function gpuXml(g) {
  const mem = (value) => field(g, MEMORY_CALLS, `${value} MiB`);
  const util = (value) =>
    field(g, ['nvmlDeviceGetUtilizationRates'], `${value} %`);
  const watts = (Number(g.powermw) / 1000).toFixed(2);
  const [domain, bus] = g.pci.split(':');
  return [
    `\t<gpu id="${g.pci}">`,
    `\t\t<product_name>${escapeXml(g.name)}</product_name>`,
    '\t\t<product_brand>GeForce</product_brand>',
    '\t\t<product_architecture>Ada Lovelace</product_architecture>',
    '\t\t<display_mode>Disabled</display_mode>',
    '\t\t<display_active>Disabled</display_active>',
    '\t\t<persistence_mode>Enabled</persistence_mode>',
    '\t\t<addressing_mode>None</addressing_mode>',
    '\t\t<mig_mode>',
    `\t\t\t<current_mig>${field(g, ['nvmlDeviceGetMigMode'], migText(g.mig))}</current_mig>`,
    `\t\t\t<pending_mig>${migText(g.mig)}</pending_mig>`,
    '\t\t</mig_mode>',
    '\t\t<mig_devices>',
    ...(g.migs.length ? g.migs.flatMap(migXml) : ['\t\t\tNone']),
    '\t\t</mig_devices>',
    '\t\t<accounting_mode>Disabled</accounting_mode>',
    '\t\t<serial>N/A</serial>',
    `\t\t<uuid>${g.uuid}</uuid>`,
    `\t\t<minor_number>${g.index}</minor_number>`,
    '\t\t<pci>',
    `\t\t\t<pci_bus>${bus ?? '01'}</pci_bus>`,
    `\t\t\t<pci_domain>${(domain ?? '0000').slice(-4)}</pci_domain>`,
    '\t\t\t<pci_device_id>268410DE</pci_device_id>',
    `\t\t\t<pci_bus_id>${g.pci}</pci_bus_id>`,
    '\t\t</pci>',
    '\t\t<fan_speed>30 %</fan_speed>',
    '\t\t<performance_state>P2</performance_state>',
    '\t\t<fb_memory_usage>',
    `\t\t\t<total>${mem(g.totalMib)}</total>`,
    `\t\t\t<reserved>${mem(g.reservedMib)}</reserved>`,
    `\t\t\t<used>${mem(g.usedMib)}</used>`,
    `\t\t\t<free>${mem(g.freeMib)}</free>`,
    '\t\t</fb_memory_usage>',
    '\t\t<bar1_memory_usage>',
    '\t\t\t<total>256 MiB</total>',
    '\t\t\t<used>1 MiB</used>',
    '\t\t\t<free>255 MiB</free>',
    '\t\t</bar1_memory_usage>',
    '\t\t<compute_mode>Default</compute_mode>',
    '\t\t<utilization>',
    `\t\t\t<gpu_util>${util(g.util)}</gpu_util>`,
    `\t\t\t<memory_util>${util(g.memutil)}</memory_util>`,
    '\t\t\t<encoder_util>0 %</encoder_util>',
    '\t\t\t<decoder_util>0 %</decoder_util>',
    '\t\t</utilization>',
    '\t\t<temperature>',
    `\t\t\t<gpu_temp>${field(g, ['nvmlDeviceGetTemperature'], `${g.temp} C`)}</gpu_temp>`,
    '\t\t\t<gpu_target_temperature>84 C</gpu_target_temperature>',
    '\t\t\t<memory_temp>N/A</memory_temp>',
    '\t\t</temperature>',
    '\t\t<gpu_power_readings>',
    '\t\t\t<power_state>P2</power_state>',
    `\t\t\t<power_draw>${field(g, ['nvmlDeviceGetPowerUsage'], `${watts} W`)}</power_draw>`,
    '\t\t\t<current_power_limit>450.00 W</current_power_limit>',
    '\t\t\t<default_power_limit>450.00 W</default_power_limit>',
    '\t\t</gpu_power_readings>',
    '\t\t<processes>',
    ...g.procs.flatMap(processXml),
    '\t\t</processes>',
    '\t\t<accounted_processes>',
    '\t\t</accounted_processes>',
    '\t</gpu>',
    '',
  ];
}

/** The whole `-q -x` document. */
export function renderXml(state, gpus) {
  return [
    '<?xml version="1.0" ?>',
    '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">',
    '<nvidia_smi_log>',
    `\t<timestamp>${new Date().toUTCString()}</timestamp>`,
    `\t<driver_version>${state.driver}</driver_version>`,
    `\t<cuda_version>${state.cuda}</cuda_version>`,
    `\t<attached_gpus>${gpus.length}</attached_gpus>`,
    ...gpus.flatMap(gpuXml),
    '</nvidia_smi_log>',
    '',
  ].join('\n');
}
