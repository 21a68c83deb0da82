/*
 * A stand-in libnvidia-ml.so.1 for gpuwarden's tests, demo and benchmarks.
 *
 * It exports the real NVML symbol names with the real struct layouts
 * (LP64, see shared/research/nvml.md §3) and answers from the fake GPU
 * state file named by GPUWARDEN_FAKE_GPU_STATE (format: the header comment
 * of test/fakes/gpu-state.ts). The file is stat()ed on every call and
 * parsed again when it changed (writeGpuState renames, so a new inode);
 * whether each process is alive (/proc/<pid>/stat exists and is not a
 * zombie) is checked again at each nvmlDeviceGetCount call, i.e. once per
 * sampling pass, so killing a process really frees its VRAM.
 *
 * Build profiles (-D): FAKE_NVML_DRIVER470 leaves out the symbols a 470
 * driver lacks (nvmlDeviceGetMemoryInfo_v2, the _v3 process calls,
 * nvmlDeviceGetTemperatureV, nvmlDeviceGetRunningProcessDetailList).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef struct fake_dev *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_ARGUMENT_VERSION_MISMATCH 25
#define NVML_ERROR_UNKNOWN 999

#define MAX_GPUS 64
#define MAX_MIGS 128
#define MAX_PROCS 2048
#define MAX_FAILS 256
#define NAME_BYTES 256
#define SENTINEL_U64 0xFFFFFFFFFFFFFFFFULL
#define NO_INSTANCE 0xFFFFFFFFU
#define MEMORY_V2_VERSION 0x02000028U
#define TEMPERATURE_V1_VERSION 0x0100000CU

struct fake_dev {
  int is_mig;
  int slot; /* index into gpus[] or migs[] */
};

struct gpu {
  unsigned index;
  char uuid[96], name[NAME_BYTES], pci[32];
  unsigned long long total, reserved, baseline;
  unsigned util, memutil, temp, powermw;
  int mig; /* -1 not supported, 0 off, 1 on */
  int lost;
};

struct mig {
  unsigned gpu, index, gi, ci;
  char uuid[96], name[NAME_BYTES];
  unsigned long long total, baseline;
};

struct proc {
  unsigned gpu, pid, gi, ci;
  int type; /* 1 compute, 2 graphics, 3 both */
  int used_known, alive;
  int host_pid; /* lives in another PID namespace: alive without /proc */
  unsigned long long used;
  char name[NAME_BYTES];
};

struct fail {
  unsigned gpu;
  char call[96];
  int code;
  unsigned delay_ms; /* a `slow` record: answer after this long */
};

static struct {
  int loaded;
  dev_t dev;
  ino_t ino;
  struct timespec mtime;
  off_t size;
  char driver[80];
  int init_error;
  unsigned stride;
  int sentinel;
  unsigned ngpus, nmigs, nprocs, nfails;
  struct gpu gpus[MAX_GPUS];
  struct mig migs[MAX_MIGS];
  struct proc procs[MAX_PROCS];
  struct fail fails[MAX_FAILS];
} st;

static struct fake_dev gpu_handles[MAX_GPUS];
static struct fake_dev mig_handles[MAX_MIGS];
static int init_count;

static const struct {
  const char *name;
  int code;
  const char *text;
} errors[] = {
    {"NVML_SUCCESS", 0, "Success"},
    {"NVML_ERROR_UNINITIALIZED", 1, "Uninitialized"},
    {"NVML_ERROR_INVALID_ARGUMENT", 2, "Invalid Argument"},
    {"NVML_ERROR_NOT_SUPPORTED", 3, "Not Supported"},
    {"NVML_ERROR_NO_PERMISSION", 4, "Insufficient Permissions"},
    {"NVML_ERROR_ALREADY_INITIALIZED", 5, "Already Initialized"},
    {"NVML_ERROR_NOT_FOUND", 6, "Not Found"},
    {"NVML_ERROR_INSUFFICIENT_SIZE", 7, "Insufficient Size"},
    {"NVML_ERROR_INSUFFICIENT_POWER", 8, "Insufficient External Power"},
    {"NVML_ERROR_DRIVER_NOT_LOADED", 9, "Driver Not Loaded"},
    {"NVML_ERROR_TIMEOUT", 10, "Timeout"},
    {"NVML_ERROR_IRQ_ISSUE", 11, "Interrupt request issue"},
    {"NVML_ERROR_LIBRARY_NOT_FOUND", 12, "NVML Shared Library Not Found"},
    {"NVML_ERROR_FUNCTION_NOT_FOUND", 13, "Function Not Found"},
    {"NVML_ERROR_CORRUPTED_INFOROM", 14, "Corrupted infoROM"},
    {"NVML_ERROR_GPU_IS_LOST", 15, "GPU is lost"},
    {"NVML_ERROR_RESET_REQUIRED", 16, "GPU requires restart"},
    {"NVML_ERROR_OPERATING_SYSTEM", 17,
     "The operating system has blocked the request"},
    {"NVML_ERROR_LIB_RM_VERSION_MISMATCH", 18,
     "RM has detected an NVML/RM version mismatch"},
    {"NVML_ERROR_IN_USE", 19, "In use by another client"},
    {"NVML_ERROR_MEMORY", 20, "Insufficient Memory"},
    {"NVML_ERROR_NO_DATA", 21, "No data"},
    {"NVML_ERROR_VGPU_ECC_NOT_SUPPORTED", 22,
     "Not supported when ECC is enabled"},
    {"NVML_ERROR_INSUFFICIENT_RESOURCES", 23, "Insufficient resources"},
    {"NVML_ERROR_FREQ_NOT_SUPPORTED", 24, "Frequency not supported"},
    {"NVML_ERROR_ARGUMENT_VERSION_MISMATCH", 25,
     "Argument version mismatch"},
    {"NVML_ERROR_DEPRECATED", 26, "Deprecated"},
    {"NVML_ERROR_NOT_READY", 27, "Not ready"},
    {"NVML_ERROR_GPU_NOT_FOUND", 28, "GPU not found"},
    {"NVML_ERROR_INVALID_STATE", 29, "Invalid state"},
    {"NVML_ERROR_RESET_TYPE_NOT_SUPPORTED", 30, "Reset type not supported"},
    {"NVML_ERROR_UNKNOWN", 999, "Unknown Error"},
};

static int error_code(const char *name) {
  for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
    if (strcmp(errors[i].name, name) == 0) return errors[i].code;
  return atoi(name) > 0 ? atoi(name) : NVML_ERROR_UNKNOWN;
}

/* ---- state file ------------------------------------------------------ */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes src into dst (NUL-terminated, truncated to size). */
static void pct_decode(const char *src, char *dst, size_t size) {
  size_t n = 0;
  for (; *src && n + 1 < size; src++) {
    if (*src == '%' && hexval(src[1]) >= 0 && hexval(src[2]) >= 0) {
      dst[n++] = (char)(hexval(src[1]) * 16 + hexval(src[2]));
      src += 2;
    } else {
      dst[n++] = *src;
    }
  }
  dst[n] = '\0';
}

/* Finds key=value in a record's tokens; decoded into out, or NULL. */
static const char *field(char **tokens, int ntokens, const char *key,
                         char *out, size_t size) {
  size_t klen = strlen(key);
  for (int i = 1; i < ntokens; i++) {
    if (strncmp(tokens[i], key, klen) == 0 && tokens[i][klen] == '=') {
      pct_decode(tokens[i] + klen + 1, out, size);
      return out;
    }
  }
  return NULL;
}

static unsigned long long num(char **t, int n, const char *key,
                              unsigned long long fallback) {
  char buf[64];
  if (!field(t, n, key, buf, sizeof buf)) return fallback;
  return strtoull(buf, NULL, 10);
}

static void text(char **t, int n, const char *key, char *out, size_t size) {
  if (!field(t, n, key, out, size)) out[0] = '\0';
}

static void apply_gpu(char **t, int n) {
  if (st.ngpus >= MAX_GPUS) return;
  struct gpu *g = &st.gpus[st.ngpus++];
  char mig[8];
  memset(g, 0, sizeof *g);
  g->index = (unsigned)num(t, n, "index", st.ngpus - 1);
  text(t, n, "uuid", g->uuid, sizeof g->uuid);
  text(t, n, "name", g->name, sizeof g->name);
  text(t, n, "pci", g->pci, sizeof g->pci);
  g->total = num(t, n, "total", 0);
  g->reserved = num(t, n, "reserved", 0);
  g->baseline = num(t, n, "baseline", 0);
  g->util = (unsigned)num(t, n, "util", 0);
  g->memutil = (unsigned)num(t, n, "memutil", 0);
  g->temp = (unsigned)num(t, n, "temp", 0);
  g->powermw = (unsigned)num(t, n, "powermw", 0);
  text(t, n, "mig", mig, sizeof mig);
  g->mig = strcmp(mig, "1") == 0 ? 1 : strcmp(mig, "0") == 0 ? 0 : -1;
  g->lost = num(t, n, "lost", 0) == 1;
}

static void apply_mig(char **t, int n) {
  if (st.nmigs >= MAX_MIGS) return;
  struct mig *m = &st.migs[st.nmigs++];
  memset(m, 0, sizeof *m);
  m->gpu = (unsigned)num(t, n, "gpu", 0);
  m->index = (unsigned)num(t, n, "index", 0);
  m->gi = (unsigned)num(t, n, "gi", 0);
  m->ci = (unsigned)num(t, n, "ci", 0);
  text(t, n, "uuid", m->uuid, sizeof m->uuid);
  text(t, n, "name", m->name, sizeof m->name);
  m->total = num(t, n, "total", 0);
  m->baseline = num(t, n, "baseline", 0);
}

static void apply_proc(char **t, int n) {
  if (st.nprocs >= MAX_PROCS) return;
  struct proc *p = &st.procs[st.nprocs++];
  char buf[32];
  memset(p, 0, sizeof *p);
  p->gpu = (unsigned)num(t, n, "gpu", 0);
  p->pid = (unsigned)num(t, n, "pid", 0);
  p->gi = (unsigned)num(t, n, "gi", NO_INSTANCE);
  p->ci = (unsigned)num(t, n, "ci", NO_INSTANCE);
  text(t, n, "type", buf, sizeof buf);
  p->type = strcmp(buf, "graphics") == 0 ? 2 : strcmp(buf, "both") == 0 ? 3 : 1;
  text(t, n, "used", buf, sizeof buf);
  p->used_known = strcmp(buf, "unknown") != 0;
  p->used = p->used_known ? strtoull(buf, NULL, 10) : 0;
  text(t, n, "name", p->name, sizeof p->name);
  p->host_pid = num(t, n, "hostpid", 0) == 1;
}

static void apply_record(char **t, int n) {
  char buf[96];
  if (strcmp(t[0], "driver") == 0) {
    text(t, n, "version", st.driver, sizeof st.driver);
  } else if (strcmp(t[0], "init") == 0) {
    st.init_error = error_code(field(t, n, "error", buf, sizeof buf) ?: "0");
  } else if (strcmp(t[0], "gpu") == 0) {
    apply_gpu(t, n);
  } else if (strcmp(t[0], "mig") == 0) {
    apply_mig(t, n);
  } else if (strcmp(t[0], "proc") == 0) {
    apply_proc(t, n);
  } else if (strcmp(t[0], "fail") == 0 && st.nfails < MAX_FAILS) {
    struct fail *f = &st.fails[st.nfails++];
    f->gpu = (unsigned)num(t, n, "gpu", 0);
    text(t, n, "call", f->call, sizeof f->call);
    f->code = error_code(field(t, n, "error", buf, sizeof buf) ?: "999");
    f->delay_ms = 0;
  } else if (strcmp(t[0], "slow") == 0 && st.nfails < MAX_FAILS) {
    struct fail *f = &st.fails[st.nfails++];
    f->gpu = (unsigned)num(t, n, "gpu", 0);
    text(t, n, "call", f->call, sizeof f->call);
    f->code = NVML_SUCCESS;
    f->delay_ms = (unsigned)num(t, n, "ms", 1000);
  } else if (strcmp(t[0], "trap") == 0) {
    st.stride = (unsigned)num(t, n, "stride", 32);
    st.sentinel = num(t, n, "sentinel", 0) == 1;
  }
}

static int is_alive(unsigned pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%u/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = '\0';
  char *close = strrchr(buf, ')');
  return close && close[1] == ' ' && close[2] != 'Z' && close[2] != 'X';
}

/* A pid listed on several GPUs is looked up once. */
static void refresh_liveness(void) {
  for (unsigned i = 0; i < st.nprocs; i++) {
    unsigned j = 0;
    while (j < i && st.procs[j].pid != st.procs[i].pid) j++;
    st.procs[i].alive = st.procs[i].host_pid ? 1
                        : j < i ? st.procs[j].alive
                                : is_alive(st.procs[i].pid);
  }
}

static void parse_file(FILE *f) {
  char line[4096];
  st.driver[0] = '\0';
  st.init_error = 0;
  st.stride = 32;
  st.sentinel = 0;
  st.ngpus = st.nmigs = st.nprocs = st.nfails = 0;
  while (fgets(line, sizeof line, f)) {
    char *tokens[64];
    int n = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && n < 64;
         tok = strtok(NULL, " \t\r\n"))
      tokens[n++] = tok;
    if (n > 0 && tokens[0][0] != '#') apply_record(tokens, n);
  }
  refresh_liveness();
}

/* Parses the state file again when it changed; 0 when there is none. */
static int load_state(void) {
  const char *path = getenv("GPUWARDEN_FAKE_GPU_STATE");
  struct stat sb;
  if (!path || stat(path, &sb) != 0) {
    st.loaded = 0;
    return 0;
  }
  if (st.loaded && sb.st_ino == st.ino && sb.st_dev == st.dev &&
      sb.st_size == st.size && sb.st_mtim.tv_sec == st.mtime.tv_sec &&
      sb.st_mtim.tv_nsec == st.mtime.tv_nsec)
    return 1;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  parse_file(f);
  fclose(f);
  st.loaded = 1;
  st.dev = sb.st_dev;
  st.ino = sb.st_ino;
  st.size = sb.st_size;
  st.mtime = sb.st_mtim;
  return 1;
}

/* ---- helpers shared by the device calls ------------------------------ */

static struct gpu *gpu_by_index(unsigned index) {
  for (unsigned i = 0; i < st.ngpus; i++)
    if (st.gpus[i].index == index) return &st.gpus[i];
  return NULL;
}

/* Strips a trailing _vN so a failure on a base name covers every version. */
static int call_matches(const char *rule, const char *symbol) {
  if (strcmp(rule, symbol) == 0) return 1;
  const char *v = strrchr(symbol, '_');
  return v && v[1] == 'v' && strlen(rule) == (size_t)(v - symbol) &&
         strncmp(rule, symbol, (size_t)(v - symbol)) == 0;
}

static int injected(unsigned gpu, const char *symbol) {
  for (unsigned i = 0; i < st.nfails; i++) {
    const struct fail *f = &st.fails[i];
    if (f->gpu != gpu || !call_matches(f->call, symbol)) continue;
    if (f->delay_ms > 0) usleep(f->delay_ms * 1000U);
    else return f->code;
  }
  return NVML_SUCCESS;
}

/* Resolves a handle: its GPU (and MIG device), or an NVML error. */
static int resolve(nvmlDevice_t dev, const char *symbol, struct gpu **g,
                   struct mig **m) {
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  load_state();
  *m = NULL;
  if (dev >= mig_handles && dev < mig_handles + MAX_MIGS) {
    if ((unsigned)dev->slot >= st.nmigs) return NVML_ERROR_INVALID_ARGUMENT;
    *m = &st.migs[dev->slot];
    *g = gpu_by_index((*m)->gpu);
  } else if (dev >= gpu_handles && dev < gpu_handles + MAX_GPUS) {
    *g = (unsigned)dev->slot < st.ngpus ? &st.gpus[dev->slot] : NULL;
  } else {
    return NVML_ERROR_INVALID_ARGUMENT;
  }
  if (!*g) return NVML_ERROR_INVALID_ARGUMENT;
  if ((*g)->lost) return NVML_ERROR_GPU_IS_LOST;
  return injected((*g)->index, symbol);
}

static nvmlReturn_t copy_string(const char *src, char *dst, unsigned length) {
  if (!dst) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(src) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(dst, src, strlen(src) + 1);
  return NVML_SUCCESS;
}

static int proc_on(const struct proc *p, const struct gpu *g,
                   const struct mig *m) {
  if (!p->alive || p->gpu != g->index) return 0;
  return m ? p->gi == m->gi : 1;
}

static unsigned long long allocated(const struct gpu *g, const struct mig *m) {
  unsigned long long sum = m ? m->baseline : g->baseline;
  for (unsigned i = 0; i < st.nprocs; i++)
    if (proc_on(&st.procs[i], g, m) && st.procs[i].used_known)
      sum += st.procs[i].used;
  return sum;
}

#define RESOLVE(dev, sym)                                                  \
  struct gpu *g;                                                           \
  struct mig *m;                                                           \
  int rc = resolve(dev, sym, &g, &m);                                      \
  if (rc != NVML_SUCCESS) return rc

/* ---- init, system ---------------------------------------------------- */

static nvmlReturn_t do_init(void) {
  if (!load_state()) return NVML_ERROR_DRIVER_NOT_LOADED;
  if (st.init_error != NVML_SUCCESS) return st.init_error;
  for (int i = 0; i < MAX_GPUS; i++) gpu_handles[i] = (struct fake_dev){0, i};
  for (int i = 0; i < MAX_MIGS; i++) mig_handles[i] = (struct fake_dev){1, i};
  init_count++;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) { return do_init(); }
nvmlReturn_t nvmlInit(void) { return do_init(); }
nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
  (void)flags;
  return do_init();
}

nvmlReturn_t nvmlShutdown(void) {
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  init_count--;
  return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t result) {
  for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
    if (errors[i].code == result) return errors[i].text;
  return "Unknown Error";
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  load_state();
  return copy_string(st.driver, version, length);
}

nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length) {
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  load_state();
  char buf[96];
  snprintf(buf, sizeof buf, "12.%s", st.driver);
  return copy_string(buf, version, length);
}

/* Cropped to length, never INSUFFICIENT_SIZE (as documented). */
nvmlReturn_t nvmlSystemGetProcessName(unsigned int pid, char *name,
                                      unsigned int length) {
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  if (!name || length == 0) return NVML_ERROR_INVALID_ARGUMENT;
  load_state();
  for (unsigned i = 0; i < st.nprocs; i++) {
    if (st.procs[i].pid == pid && st.procs[i].alive) {
      snprintf(name, length, "%s", st.procs[i].name);
      return NVML_SUCCESS;
    }
  }
  return NVML_ERROR_NOT_FOUND;
}

static nvmlReturn_t get_count(unsigned int *count) {
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  load_state();
  refresh_liveness();
  *count = st.ngpus;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  return get_count(count);
}
nvmlReturn_t nvmlDeviceGetCount(unsigned int *count) {
  return get_count(count);
}

static nvmlReturn_t get_handle(unsigned index, nvmlDevice_t *device,
                               const char *symbol) {
  if (init_count <= 0) return NVML_ERROR_UNINITIALIZED;
  if (!device) return NVML_ERROR_INVALID_ARGUMENT;
  load_state();
  for (unsigned i = 0; i < st.ngpus; i++) {
    if (st.gpus[i].index != index) continue;
    if (st.gpus[i].lost) return NVML_ERROR_GPU_IS_LOST;
    int rc = injected(index, symbol);
    if (rc != NVML_SUCCESS) return rc;
    *device = &gpu_handles[i];
    return NVML_SUCCESS;
  }
  return NVML_ERROR_INVALID_ARGUMENT;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index,
                                           nvmlDevice_t *device) {
  return get_handle(index, device, "nvmlDeviceGetHandleByIndex_v2");
}
nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index,
                                        nvmlDevice_t *device) {
  return get_handle(index, device, "nvmlDeviceGetHandleByIndex");
}

/* ---- identity -------------------------------------------------------- */

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t dev, char *name,
                               unsigned int length) {
  RESOLVE(dev, "nvmlDeviceGetName");
  return copy_string(m ? m->name : g->name, name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t dev, char *uuid,
                               unsigned int length) {
  RESOLVE(dev, "nvmlDeviceGetUUID");
  return copy_string(m ? m->uuid : g->uuid, uuid, length);
}

typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t; /* 68 bytes, busId at 36 */

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t dev, nvmlPciInfo_t *pci) {
  RESOLVE(dev, "nvmlDeviceGetPciInfo_v3");
  if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
  memset(pci, 0, sizeof *pci);
  snprintf(pci->busId, sizeof pci->busId, "%s", g->pci);
  snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%.15s",
           strlen(g->pci) > 4 ? g->pci + 4 : g->pci);
  unsigned domain = 0, bus = 0, device = 0;
  sscanf(g->pci, "%x:%x:%x", &domain, &bus, &device);
  pci->domain = domain;
  pci->bus = bus;
  pci->device = device;
  pci->pciDeviceId = 0x268410DE;
  return NVML_SUCCESS;
}

/* ---- memory ---------------------------------------------------------- */

typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
  unsigned int version;
  unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t; /* 40 bytes: version@0, total@8, reserved@16 ... */

/* MIG parent handles need privileges the agent does not have. */
static int parent_of_mig(const struct gpu *g, const struct mig *m) {
  return !m && g->mig == 1;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *mem) {
  RESOLVE(dev, "nvmlDeviceGetMemoryInfo");
  if (!mem) return NVML_ERROR_INVALID_ARGUMENT;
  if (parent_of_mig(g, m)) return NVML_ERROR_NO_PERMISSION;
  unsigned long long total = m ? m->total : g->total;
  unsigned long long reserved = m ? 0 : g->reserved;
  /* R510+: v1 `used` is reserved + allocated. */
  mem->total = total;
  mem->used = reserved + allocated(g, m);
  mem->free = total > mem->used ? total - mem->used : 0;
  return NVML_SUCCESS;
}

#ifndef FAKE_NVML_DRIVER470
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t dev,
                                        nvmlMemory_v2_t *mem) {
  RESOLVE(dev, "nvmlDeviceGetMemoryInfo_v2");
  if (!mem) return NVML_ERROR_INVALID_ARGUMENT;
  if (mem->version != MEMORY_V2_VERSION)
    return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  if (parent_of_mig(g, m)) return NVML_ERROR_NO_PERMISSION;
  mem->total = m ? m->total : g->total;
  mem->reserved = m ? 0 : g->reserved;
  mem->used = allocated(g, m);
  unsigned long long taken = mem->reserved + mem->used;
  mem->free = mem->total > taken ? mem->total - taken : 0;
  return NVML_SUCCESS;
}
#endif

/* ---- utilization, temperature, power ---------------------------------- */

typedef struct {
  unsigned int gpu, memory;
} nvmlUtilization_t;

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t dev,
                                           nvmlUtilization_t *util) {
  RESOLVE(dev, "nvmlDeviceGetUtilizationRates");
  if (!util) return NVML_ERROR_INVALID_ARGUMENT;
  if (m || g->mig == 1) return NVML_ERROR_NOT_SUPPORTED;
  util->gpu = g->util;
  util->memory = g->memutil;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t dev, int sensor,
                                      unsigned int *temp) {
  RESOLVE(dev, "nvmlDeviceGetTemperature");
  if (!temp || sensor != 0) return NVML_ERROR_INVALID_ARGUMENT;
  if (m) return NVML_ERROR_NOT_SUPPORTED;
  *temp = g->temp;
  return NVML_SUCCESS;
}

#ifndef FAKE_NVML_DRIVER470
typedef struct {
  unsigned int version;
  int sensorType;
  int temperature;
} nvmlTemperature_t;

nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t dev,
                                       nvmlTemperature_t *temp) {
  RESOLVE(dev, "nvmlDeviceGetTemperatureV");
  if (!temp || temp->sensorType != 0) return NVML_ERROR_INVALID_ARGUMENT;
  if (temp->version != TEMPERATURE_V1_VERSION)
    return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  if (m) return NVML_ERROR_NOT_SUPPORTED;
  temp->temperature = (int)g->temp;
  return NVML_SUCCESS;
}
#endif

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t dev, unsigned int *power) {
  RESOLVE(dev, "nvmlDeviceGetPowerUsage");
  if (!power) return NVML_ERROR_INVALID_ARGUMENT;
  if (m) return NVML_ERROR_NOT_SUPPORTED;
  *power = g->powermw;
  return NVML_SUCCESS;
}

/* ---- processes -------------------------------------------------------- */

/*
 * The two-call pattern: with *count too small (or infos NULL) it answers
 * INSUFFICIENT_SIZE and the needed count; otherwise it writes `stride`-byte
 * entries (pid@0, usedGpuMemory@8, gpuInstanceId@16, computeInstanceId@20,
 * zeros after) and the count written.
 */
static nvmlReturn_t processes(nvmlDevice_t dev, unsigned int *count,
                              void *infos, int kind, unsigned stride,
                              const char *symbol) {
  RESOLVE(dev, symbol);
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  if (parent_of_mig(g, m)) return NVML_ERROR_NO_PERMISSION;
  unsigned n = 0;
  for (unsigned i = 0; i < st.nprocs; i++)
    if (proc_on(&st.procs[i], g, m) && (st.procs[i].type & kind)) n++;
  if (n == 0) {
    *count = 0;
    return NVML_SUCCESS;
  }
  if (*count < n || !infos) {
    *count = n;
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  unsigned char *out = infos;
  for (unsigned i = 0; i < st.nprocs; i++) {
    const struct proc *p = &st.procs[i];
    if (!proc_on(p, g, m) || !(p->type & kind)) continue;
    unsigned long long used =
        st.sentinel || !p->used_known ? SENTINEL_U64 : p->used;
    memset(out, 0, stride);
    memcpy(out, &p->pid, 4);
    memcpy(out + 8, &used, 8);
    if (stride >= 24) {
      memcpy(out + 16, &p->gi, 4);
      memcpy(out + 20, &p->ci, 4);
    }
    out += stride;
  }
  *count = n;
  return NVML_SUCCESS;
}

#define PROCESS_CALLS(Kind, bit)                                            \
  nvmlReturn_t nvmlDeviceGet##Kind##RunningProcesses(                       \
      nvmlDevice_t dev, unsigned int *count, void *infos) {                 \
    return processes(dev, count, infos, bit, 16,                            \
                     "nvmlDeviceGet" #Kind "RunningProcesses");             \
  }                                                                         \
  nvmlReturn_t nvmlDeviceGet##Kind##RunningProcesses_v2(                    \
      nvmlDevice_t dev, unsigned int *count, void *infos) {                 \
    return processes(dev, count, infos, bit, 24,                            \
                     "nvmlDeviceGet" #Kind "RunningProcesses_v2");          \
  }                                                                         \
  V3_CALL(Kind, bit)

#ifndef FAKE_NVML_DRIVER470
#define V3_CALL(Kind, bit)                                                  \
  nvmlReturn_t nvmlDeviceGet##Kind##RunningProcesses_v3(                    \
      nvmlDevice_t dev, unsigned int *count, void *infos) {                 \
    load_state();                                                           \
    return processes(dev, count, infos, bit, st.stride < 16 ? 16 : st.stride, \
                     "nvmlDeviceGet" #Kind "RunningProcesses_v3");          \
  }
#else
#define V3_CALL(Kind, bit)
#endif

PROCESS_CALLS(Compute, 1)
PROCESS_CALLS(Graphics, 2)

/* ---- MIG ---------------------------------------------------------------- */

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t dev, unsigned int *current,
                                  unsigned int *pending) {
  RESOLVE(dev, "nvmlDeviceGetMigMode");
  if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
  if (m || g->mig < 0) return NVML_ERROR_NOT_SUPPORTED;
  *current = *pending = (unsigned)g->mig;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t dev,
                                            unsigned int *count) {
  RESOLVE(dev, "nvmlDeviceGetMaxMigDeviceCount");
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  if (m || g->mig < 0) return NVML_ERROR_NOT_SUPPORTED;
  *count = g->mig == 1 ? 7 : 0;
  return NVML_SUCCESS;
}

/* Indexes without a MIG device answer NOT_FOUND, as the driver does. */
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t dev,
                                                 unsigned int index,
                                                 nvmlDevice_t *mig) {
  RESOLVE(dev, "nvmlDeviceGetMigDeviceHandleByIndex");
  if (!mig || m) return NVML_ERROR_INVALID_ARGUMENT;
  if (g->mig != 1) return NVML_ERROR_NOT_FOUND;
  for (unsigned i = 0; i < st.nmigs; i++) {
    if (st.migs[i].gpu == g->index && st.migs[i].index == index) {
      *mig = &mig_handles[i];
      return NVML_SUCCESS;
    }
  }
  return NVML_ERROR_NOT_FOUND;
}

nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t dev,
                                         unsigned int *isMig) {
  RESOLVE(dev, "nvmlDeviceIsMigDeviceHandle");
  if (!isMig) return NVML_ERROR_INVALID_ARGUMENT;
  *isMig = m != NULL;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t dev, unsigned int *id) {
  RESOLVE(dev, "nvmlDeviceGetGpuInstanceId");
  if (!id) return NVML_ERROR_INVALID_ARGUMENT;
  if (!m) return NVML_ERROR_NOT_SUPPORTED;
  *id = m->gi;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t dev,
                                            unsigned int *id) {
  RESOLVE(dev, "nvmlDeviceGetComputeInstanceId");
  if (!id) return NVML_ERROR_INVALID_ARGUMENT;
  if (!m) return NVML_ERROR_NOT_SUPPORTED;
  *id = m->ci;
  return NVML_SUCCESS;
}
