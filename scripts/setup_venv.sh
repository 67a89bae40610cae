#!/usr/bin/env bash
# Create or update one of the project's two virtual environments, idempotently.
#   scripts/setup_venv.sh service   -> .venv       (Python 3.11: bot/, knowledge/, tests)
#   scripts/setup_venv.sh rasa      -> .venv-rasa  (Python 3.10: Rasa server + action server)
# Each venv gets its runtime lock and its test lock (requirements/<runtime>.lock + <runtime>-test.lock);
# a stamp file holding the hash of both makes a second run with nothing changed instant, and a change
# to either reinstalls.
set -euo pipefail
cd "$(dirname "$0")/.."
runtime="${1:?usage: setup_venv.sh service|rasa}"

find_python() {  # $1 = version like 3.10; prints a path or nothing
  local v="$1" p
  for p in "python$v" "$HOME/.pyenv/versions/$v"*/bin/"python$v" /usr/bin/"python$v" /usr/local/bin/"python$v"; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys' >/dev/null 2>&1; then command -v "$p"; return; fi
    if [ -x "$p" ]; then echo "$p"; return; fi
  done
}

case "$runtime" in
  service) venv=.venv; version=3.11 ;;
  rasa)    venv=.venv-rasa; version=3.10 ;;
  *) echo "unknown runtime: $runtime" >&2; exit 2 ;;
esac

lock="requirements/$runtime.lock" test_lock="requirements/$runtime-test.lock"
# Hash of the two files' hashes and names: moving a pin from one file to the other changes it too.
stamp="$venv/.installed-$(sha256sum "$lock" "$test_lock" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  echo "[setup] $runtime runtime up to date ($venv)"; exit 0
fi

py="$(find_python "$version")"
if [ -z "$py" ]; then
  echo "[setup] ERROR: Python $version is required for the $runtime runtime but was not found." >&2
  echo "        Install it (e.g. 'pyenv install $version' or 'apt-get install python$version python$version-venv')" >&2
  echo "        and make 'python$version' available on PATH." >&2
  exit 1
fi

echo "[setup] $runtime runtime: creating/updating $venv with $py (this takes a few minutes the first time)"
start=$(date +%s)
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --progress-bar on -q --upgrade "pip<26" 2>&1 | grep -v "is ignored" || true
if [ "$runtime" = service ]; then
  # torch first and pinned: the CPU wheel on this disk. Anything unpinned would pull a CUDA build.
  "$venv/bin/python" -m pip install -q torch==2.13.0 2>&1 | grep -v "is ignored" || true
fi
# What the locks no longer list goes first: a lock change may swap a package for one that installs
# the same module (opencc-python-reimplemented and opencc both install `opencc`), and uninstalling
# the old one afterwards would delete the new one's files.
"$venv/bin/python" - "$lock" "$test_lock" <<'PY'
import re, subprocess, sys
name = lambda line: re.split(r"[=<>\[ ;@]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
wanted = {name(l) for f in sys.argv[1:] for l in open(f) if l.strip() and not l.startswith(("#", "-"))}
wanted |= {"pip", "setuptools", "wheel", "torch"}
freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True).stdout
extra = sorted({name(l) for l in freeze.splitlines() if l.strip() and not l.startswith("#")} - wanted)
if extra:
    print("[setup] removing what the locks no longer list:", " ".join(extra))
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-q", "-y", *extra], check=True)
PY
"$venv/bin/python" -m pip install -q -r "$lock" -r "$test_lock" 2>&1 | grep -v "is ignored" || true
"$venv/bin/python" -m pip check >/dev/null 2>&1 || echo "[setup] note: pip check reports conflicts (see '$venv/bin/pip check')"
# Fail loudly if the install did not work (the grep above hides pip's exit code).
if [ "$runtime" = service ]; then
  "$venv/bin/python" -c "import torch, sentence_transformers, faiss, fastapi, jieba, opencc, sqlalchemy; assert '+cpu' in torch.__version__ or not torch.cuda.is_available()"
else
  "$venv/bin/python" -W ignore -c "import rasa, rasa_sdk, jieba"
fi
rm -f "$venv"/.installed-*
touch "$stamp"
echo "[setup] $runtime runtime ready in $(( $(date +%s) - start ))s"
