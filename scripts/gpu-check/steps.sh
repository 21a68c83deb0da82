# shellcheck shell=bash
# The steps of scripts/gpu-check.sh (docs/gpu-check.md), sourced by it:
# it defines ROOT, HERE, WORK, GIB, IGNORE_TERM, FAKE and the helpers step, fail,
# cannot, now_ms, seconds_since, agent, ts, tool and sample_to. Each step
# sets the variables the next ones read (NVML_LIB, SMI, OFFENDER_PID, …).

# [1] The driver and its GPUs, or the fake ones in a dry run.
find_gpu() {
  step "GPU and driver"
  if [[ $FAKE == 1 ]]; then
    export GPUWARDEN_FAKE_GPU_STATE=$WORK/gpu-state
    NVML_LIB=$(ts "$HERE/fake-gpu.ts" setup "$GPUWARDEN_FAKE_GPU_STATE") ||
      cannot "the fake NVML library could not be built (is gcc installed?)"
    SMI=$ROOT/test/fakes/nvidia-smi/nvidia-smi
    echo "  DRY RUN: fake NVML $NVML_LIB, fake nvidia-smi, state $GPUWARDEN_FAKE_GPU_STATE"
  else
    SMI=$(command -v nvidia-smi) ||
      cannot "nvidia-smi is not on PATH: this machine has no NVIDIA driver (GPUWARDEN_GPU_CHECK_FAKE=1 runs a dry run)"
    NVML_LIB=libnvidia-ml.so.1
    "$SMI" -L | sed 's/^/  /' ||
      cannot "nvidia-smi -L failed: the NVIDIA driver is not working here"
  fi
  "$SMI" --query-gpu=index,name,uuid,driver_version,memory.total \
    --format=csv,noheader | sed 's/^/  /' ||
    cannot "nvidia-smi --query-gpu failed: the NVIDIA driver is not working here"
}

# [2] One snapshot through each source; both against nvidia-smi's figures.
sample_and_compare() {
  step "sample through NVML and through nvidia-smi, and compare"
  local t0
  t0=$(now_ms)
  sample_to "$WORK/nvml.json" nvml
  echo "  gpuwarden-agent sample --source nvml --json: $(seconds_since "$t0") (with node's start)"
  t0=$(now_ms)
  sample_to "$WORK/smi-source.json" nvidia-smi
  echo "  gpuwarden-agent sample --source nvidia-smi --json: $(seconds_since "$t0")"
  "$SMI" --query-gpu=index,memory.total,memory.used,memory.free \
    --format=csv,noheader,nounits >"$WORK/smi.csv" ||
    fail "nvidia-smi --query-gpu=index,memory.total,memory.used,memory.free failed"
  tool compare "$WORK/nvml.json" "$WORK/smi-source.json" "$WORK/smi.csv"
}

# [3] The offender: PyTorch, else a tiny CUDA program, else a sleep in a
# dry run; it prints `ready pid=<pid> bytes=<n>` once it holds the memory.
start_offender() {
  step "start the offender: $GIB GiB of VRAM$([[ $IGNORE_TERM == 1 ]] && echo ', ignoring SIGTERM')"
  if [[ $FAKE == 1 ]]; then
    start_fake_offender
    return
  fi
  local how term=()
  [[ $IGNORE_TERM == 1 ]] && term=(--ignore-term)
  if python3 -c 'import torch' 2>/dev/null; then
    how=(python3 -u "$HERE/offender.py" --gib "$GIB" "${term[@]}")
    echo "  with PyTorch: torch.empty on cuda:0"
  elif command -v nvcc >/dev/null; then
    nvcc -o "$WORK/offender" "$HERE/offender.cu" 2>"$WORK/nvcc.err" ||
      cannot "nvcc could not build the offender: $(tail -n 1 "$WORK/nvcc.err")"
    how=("$WORK/offender" "$GIB" "${term[@]}")
    echo "  with a CUDA program (no PyTorch): cudaMalloc on device 0"
  else
    cannot "neither PyTorch (python3 -c 'import torch') nor nvcc is available to start a CUDA process"
  fi
  CUDA_DEVICE_ORDER=PCI_BUS_ID "${how[@]}" >"$WORK/offender.out" 2>"$WORK/offender.err" &
  OFFENDER_PID=$!
  wait_ready
}

start_fake_offender() {
  if [[ $IGNORE_TERM == 1 ]]; then
    # An ignored signal stays ignored across exec: sleep ignores SIGTERM.
    bash -c 'trap "" TERM; exec sleep 600' &
  else
    sleep 600 &
  fi
  OFFENDER_PID=$!
  OFFENDER_BYTES=$(awk -v g="$GIB" 'BEGIN { printf "%.0f", g * 1073741824 }')
  ts "$HERE/fake-gpu.ts" register "$GPUWARDEN_FAKE_GPU_STATE" \
    "$OFFENDER_PID" "$OFFENDER_BYTES" python3
  [[ $IGNORE_TERM == 1 ]] && echo "  it ignores SIGTERM"
  echo "  DRY RUN: 'sleep' pid $OFFENDER_PID, listed on the fake GPU 0 holding $OFFENDER_BYTES bytes"
}

wait_ready() {
  local t0 rc
  t0=$(now_ms)
  for _ in $(seq 1 1200); do
    if grep -q '^ready ' "$WORK/offender.out" 2>/dev/null; then break; fi
    if ! kill -0 "$OFFENDER_PID" 2>/dev/null; then
      rc=0
      wait "$OFFENDER_PID" || rc=$?
      OFFENDER_PID=""
      local why
      why=$(tail -n 1 "$WORK/offender.err" 2>/dev/null || true)
      [[ $rc == 3 ]] && cannot "${why:-the offender found no CUDA device}"
      fail "the offender exited ($rc) before holding its memory: ${why:-no message}"
    fi
    sleep 0.1
  done
  local line
  line=$(grep -m 1 '^ready ' "$WORK/offender.out") ||
    fail "the offender did not allocate its memory within 120 s"
  [[ $line == "ready pid=$OFFENDER_PID "* ]] ||
    fail "the offender says '$line', but it was started as pid $OFFENDER_PID"
  OFFENDER_BYTES=${line##*bytes=}
  echo "  pid $OFFENDER_PID holds $OFFENDER_BYTES bytes after $(seconds_since "$t0")"
}

# [4] Until a sample through NVML lists the offender with its memory.
wait_for_offender() {
  step "wait until the offender's memory shows in a sample"
  local t0 min_bytes seen=""
  t0=$(now_ms)
  min_bytes=$((OFFENDER_BYTES * 9 / 10))
  for _ in $(seq 1 30); do
    sample_to "$WORK/with-offender.json" nvml
    if seen=$(ts "$HERE/tools.ts" find-offender "$WORK/with-offender.json" \
      "$OFFENDER_PID" "$min_bytes" 2>"$WORK/find.err"); then
      break
    fi
    seen=""
    sleep 1
  done
  [[ -n $seen ]] || fail "no sample shows the offender within 30 s: $(tail -n 1 "$WORK/find.err")"
  read -r GPU_UUID GPU_INDEX OFFENDER_USED FREE_WITH_OFFENDER _ <<<"$seen"
  echo "  seen after $(seconds_since "$t0"): pid $OFFENDER_PID holds $OFFENDER_USED bytes on GPU $GPU_INDEX ($GPU_UUID); free now $FREE_WITH_OFFENDER bytes"
}

# [5] The generated config, sized so the offender breaks the reservation,
# and what `check` says the guard would do, changing nothing.
run_check() {
  step "gpuwarden-agent check --config <generated> --json"
  CONFIG=$WORK/agent.yaml
  write_config "$OFFENDER_USED"
  run_check_to "$WORK/check-sizing.json"
  local sizing available reserve
  sizing=$(tool size "$WORK/check-sizing.json" "$GPU_UUID" "$OFFENDER_USED")
  read -r available reserve <<<"$sizing"
  write_config "$reserve"
  echo "  config $CONFIG: reserve $reserve bytes on $GPU_UUID (room for the reserved model now: $available bytes)"
  run_check_to "$WORK/check.json"
  tool verdict "$WORK/check.json" "$GPU_UUID" "$OFFENDER_PID"
}

write_config() {
  tool config "$CONFIG" --gpu "$GPU_UUID" --reserve "$1" \
    --user "$(id -un)" --min-victim $((OFFENDER_USED / 2)) \
    --state-dir "$WORK/state" --nvml-lib "$NVML_LIB" --nvidia-smi "$SMI"
}

run_check_to() {
  agent check --config "$CONFIG" --json >"$1" 2>"$WORK/check.err" ||
    fail "check --config: $(tail -n 1 "$WORK/check.err")"
}

# [6] The guard enforces, on simulated harm (see enforce-once.ts).
enforce() {
  step "enforce: the guard acts (harm simulated: latency SLI breached)"
  # The group also takes bash's own note on the killed offender job.
  if ! {
    timeout 150 node --import tsx "$HERE/enforce-once.ts" --config "$CONFIG" \
      --offender "$OFFENDER_PID" --timeout 90s --out "$WORK/enforce.json"
  } 2>"$WORK/enforce.err"; then
    fail "enforce: $(grep -v ' Killed ' "$WORK/enforce.err" | tail -n 1)"
  fi
}

# [7] Independent checks: the offender is gone, how it died, its memory.
verify() {
  step "verify"
  local state rc=0
  state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$OFFENDER_PID/stat" 2>/dev/null || true)
  if [[ -n $state && $state != Z ]]; then
    fail "the offender pid $OFFENDER_PID is still running (state $state)"
  fi
  wait "$OFFENDER_PID" 2>/dev/null || rc=$?
  OFFENDER_PID_DONE=$OFFENDER_PID
  OFFENDER_PID=""
  echo "  offender pid $OFFENDER_PID_DONE is gone: exit status $rc ($(signal_name "$rc"))"
  [[ $rc == 143 || $rc == 137 ]] ||
    fail "the offender ended with status $rc, not by the guard's SIGTERM or SIGKILL"
  sample_to "$WORK/after.json" nvml
  if ts "$HERE/tools.ts" find-offender "$WORK/after.json" "$OFFENDER_PID_DONE" 1 >/dev/null 2>&1; then
    fail "a fresh sample still lists pid $OFFENDER_PID_DONE on a GPU"
  fi
  echo "  a fresh NVML sample no longer lists pid $OFFENDER_PID_DONE"
  tool summary "$WORK/enforce.json" "$WORK/after.json" "$GPU_UUID"
}

signal_name() {
  case $1 in
    143) echo "killed by SIGTERM" ;;
    137) echo "killed by SIGKILL" ;;
    *) echo "not by a signal the guard sends" ;;
  esac
}
