#!/usr/bin/env bash
# The GPU check (docs/gpu-check.md): on a machine with a real NVIDIA GPU,
# samples through the driver (NVML and nvidia-smi) and compares the two,
# starts a CUDA process that takes VRAM (the offender), asks `check` what
# the guard would do, then lets the guard enforce (with simulated harm)
# and verifies that the offender, and nothing else, was killed and that its
# memory came back. Not part of CI.
#
#   bash scripts/gpu-check.sh [--gib N] [--ignore-term] [--keep]
#
# GPUWARDEN_GPU_CHECK_FAKE=1 runs the same steps against the fake NVML
# library and fake nvidia-smi of the tests, with a `sleep` as the offender.
#
# Exit 0: pass. 1: a step failed (one line says which and why). 2: the
# check cannot run here (no driver, no PyTorch or nvcc, no npm ci, usage).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/scripts/gpu-check
GIB=2
IGNORE_TERM=0
KEEP=0
FAKE=${GPUWARDEN_GPU_CHECK_FAKE:-0}
OFFENDER_PID=""
STEP=0

usage() { echo "usage: bash scripts/gpu-check.sh [--gib N] [--ignore-term] [--keep]"; }
step() {
  STEP=$((STEP + 1))
  printf '\n[%d] %s\n' "$STEP" "$*"
}
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}
cannot() {
  printf 'CANNOT RUN: %s\n' "$*" >&2
  exit 2
}
now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.2f s", (b - a) / 1000 }'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --gib)
      [[ $# -ge 2 ]] || cannot "--gib needs a number of GiB"
      GIB=$2
      shift 2
      ;;
    --ignore-term)
      IGNORE_TERM=1
      shift
      ;;
    --keep)
      KEEP=1
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
done
if ! [[ $GIB =~ ^[0-9]+([.][0-9]+)?$ ]] || ! awk -v g="$GIB" 'BEGIN { exit !(g > 0 && g <= 64) }'; then
  cannot "--gib must be a number of GiB above 0 and at most 64, got '$GIB'"
fi

cd "$ROOT"
command -v node >/dev/null || cannot "node is not on PATH; install Node.js 20 or newer"
[[ -d node_modules/tsx ]] || cannot "node_modules is missing; run 'npm ci' in $ROOT first"

WORK=$(mktemp -d -p "${TMPDIR:-/tmp}")
cleanup() {
  if [[ -n $OFFENDER_PID ]] && kill -0 "$OFFENDER_PID" 2>/dev/null; then
    kill -KILL "$OFFENDER_PID" 2>/dev/null || true
  fi
  if [[ $KEEP == 1 ]]; then echo "files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

agent() { node "$ROOT/bin/gpuwarden-agent.js" "$@"; }
ts() { node --import tsx "$@"; }

# tool NAME ARGS...: a command of tools.ts; its one-line reason on failure.
tool() {
  if ! ts "$HERE/tools.ts" "$@" 2>"$WORK/tool.err"; then
    fail "$(tail -n 1 "$WORK/tool.err")"
  fi
}

# sample_to FILE SOURCE: one snapshot as JSON through the agent's sampler.
sample_to() {
  local args=(sample --json --source "$2")
  if [[ $2 == nvml ]]; then args+=(--nvml-lib "$NVML_LIB"); else args+=(--nvidia-smi "$SMI"); fi
  if ! agent "${args[@]}" >"$1" 2>"$WORK/sample.err"; then
    fail "sample --source $2: $(tail -n 1 "$WORK/sample.err")"
  fi
}

source "$HERE/steps.sh"

find_gpu
sample_and_compare
start_offender
wait_for_offender
run_check
enforce
verify
