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

# supervise NAME LOG COMMAND...: run COMMAND, its output appended to LOG, and start
# it again whenever it exits, until this loop is sent TERM (which stops COMMAND too).
# The pause before a restart doubles from 1 s up to 60 s, and drops back to 1 s
# once COMMAND has stayed up for a minute. Each restart is one line on stderr and
# in LOG. COMMAND runs in its own session, so a Ctrl-C meant for the web server
# does not reach it and look like a crash; the caller stops the loop instead.
# Run it in the background: `supervise worker var/log/celery.log celery … &`.
supervise() {
  # Globals, not locals: bash loses its variable context when a trap exits from
  # inside a function that has locals ("pop_var_context"), and exits 1.
  sup_name=$1 sup_log=$2 sup_delay=1 sup_restarts=0 sup_child=0
  shift 2
  trap _supervise_stop TERM INT
  while true; do
    sup_started=$SECONDS
    setsid "$@" >>"$sup_log" 2>&1 &
    sup_child=$!
    wait "$sup_child" && sup_rc=0 || sup_rc=$?
    # Whatever it left behind in its process group goes too (a worker killed with
    # -9 leaves its embedded beat running: a second beat once it is restarted).
    kill -TERM -- "-$sup_child" 2>/dev/null || true
    if (( SECONDS - sup_started >= 60 )); then sup_delay=1; fi
    sup_restarts=$((sup_restarts + 1))
    printf '%s supervisor: %s (pid %d) exited with status %d; restart #%d in %d s\n' \
      "$(date '+%F %T %z')" "$sup_name" "$sup_child" "$sup_rc" "$sup_restarts" "$sup_delay" | tee -a "$sup_log" >&2
    sleep "$sup_delay" & wait $! || true
    sup_delay=$(( sup_delay * 2 > 60 ? 60 : sup_delay * 2 ))
  done
}

_supervise_stop() {
  kill -TERM "$sup_child" 2>/dev/null || true
  wait "$sup_child" 2>/dev/null || true
  kill -TERM -- "-$sup_child" 2>/dev/null || true
  exit 0
}
