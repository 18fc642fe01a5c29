# Shared by scripts/demo and scripts/test: find Python >= 3.12, make .venv, install.
# Sourced, not run. Nothing here needs a service or a hand-installed package.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

is_new_enough() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local candidate
  for candidate in "${PORTAL_PYTHON:-}" python3.13 python3.12 python3.14 python3 python; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && is_new_enough "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  # pyenv installs versions without putting them on PATH (its shims refuse
  # versions that are not selected), so look in its versions folder directly.
  local roots=()
  command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root)")
  roots+=("${PYENV_ROOT:-$HOME/.pyenv}" /usr/local /opt/python /usr)
  for root in "${roots[@]}"; do
    for candidate in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 "$root"/bin/python3.1[2-9] 2>/dev/null | sort -rV); do
      if is_new_enough "$candidate"; then echo "$candidate"; return 0; fi
    done
  done
  return 1
}

ensure_venv() {
  if [ ! -x .venv/bin/python ] || ! is_new_enough .venv/bin/python; then
    local python
    python="$(find_python)" || {
      echo "No Python >= 3.12 found. Install one (e.g. 'pyenv install 3.13') or set PORTAL_PYTHON." >&2
      exit 1
    }
    say "Creating .venv with $python ($("$python" --version))"
    rm -rf .venv
    "$python" -m venv .venv
  fi
  # Reinstall only when the dependency list changed.
  local stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    say "Upgrading pip in .venv"
    pip_quietly install --upgrade pip
    say "Installing the portal and its dependencies into .venv (the first time takes about two minutes)"
    pip_quietly install --progress-bar off -e ".[test]"
    rm -f .venv/.installed-*
    touch "$stamp"
    say "Dependencies installed"
  else
    say "Dependencies are up to date (.venv)"
  fi
}

# pip's own progress, one line per package, without the notices some machines' pip
# configuration prints for every package (unreachable extra indexes).
pip_quietly() {
  local status=0
  .venv/bin/python -m pip "$@" > >(grep --line-buffered -v -e "^WARNING: Location '.*' is ignored" \
    -e "^ *Requirement already satisfied") 2>&1 || status=$?
  wait  # for the filter to print its last lines
  return "$status"
}
