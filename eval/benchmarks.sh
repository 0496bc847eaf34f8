#!/usr/bin/env bash
# Every speed and memory benchmark in one run, each printing a Markdown table with its baseline
# measured in the same run; the tables go to eval/reports/benchmarks.md (≈15 min on 2 cores).
#
#     bash eval/benchmarks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
out=eval/reports/benchmarks.md
py=.venv/bin/python
# the service benchmark drives the API with locust (the `bench` extra; setup does not need it)
[ -x .venv/bin/locust ] || "$py" -m pip install --quiet -e ".[bench]"
{
  echo "# Benchmarks"
  echo
  # the CPU decides the encoder's precision (bf16 only where it is native), so the report names both
  cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
  dtype=$("$py" -c "from chatcoach.config import get_settings; from chatcoach.models.encoder import resolve_dtype; print(resolve_dtype(get_settings().encoder_dtype))")
  echo "Regenerate with \`bash eval/benchmarks.sh\`. Machine: $(nproc) cores, $(uname -m), ${cpu:-unknown CPU}, encoder dtype $dtype, $(date -u +%Y-%m-%d)."
  for bench in bench_encoder bench_analyze bench_suggest bench_audit bench_service; do
    echo
    echo "## $bench"
    echo
    echo "\`$py eval/$bench.py\`"
    "$py" "eval/$bench.py"  # progress and logs stay on stderr
  done
} | tee "$out"
