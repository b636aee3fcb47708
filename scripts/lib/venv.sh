# Shared by scripts/test and scripts/demo: create or refresh a virtual environment for one
# Home Assistant release, installed under Home Assistant's own package constraints (without
# them pip backtracks for minutes). Fast when the environment is already up to date.
#
#   ensure_venv DIR PYTHON PHCC_VERSION HA_VERSION [EXTRA_REQUIREMENT...]

log() { printf '%s\n' "$*" >&2; }

find_python313() {
  local candidate
  for candidate in "$(command -v python3.13 || true)" \
    $(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.13.*/bin/python3.13 2>/dev/null | sort -V -r); do
    # A pyenv shim exists even where no 3.13 is selected: check that it really runs.
    [ -n "$candidate" ] && [ -x "$candidate" ] \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null \
      && { echo "$candidate"; return 0; }
  done
  return 1
}

ensure_venv() {
  local dir=$1 python=$2 phcc=$3 ha=$4
  shift 4
  local stamp_text stamp_file="$dir/.energy-gateway-stamp"
  stamp_text="$phcc $ha $* $(cat requirements_test.txt | sha256sum | cut -c1-16)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp_text" ]; then
    return 0
  fi
  log "Setting up $dir (Home Assistant $ha); this takes a few minutes once."
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  local work constraints
  work=$(mktemp -d)
  "$dir/bin/python" -m pip install --quiet --upgrade pip >"$work/pip.log" 2>&1 || { cat "$work/pip.log" >&2; return 1; }
  # Home Assistant ships its pins inside the wheel; take them out of the wheel itself.
  "$dir/bin/python" -m pip download --quiet --no-deps "homeassistant==$ha" -d "$work" >>"$work/pip.log" 2>&1 \
    || { cat "$work/pip.log" >&2; return 1; }
  constraints="$work/package_constraints.txt"
  "$dir/bin/python" - "$work" <<'PY'
import pathlib, sys, zipfile
work = pathlib.Path(sys.argv[1])
wheel = next(work.glob("homeassistant-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    (work / "package_constraints.txt").write_bytes(archive.read("homeassistant/package_constraints.txt"))
PY
  "$dir/bin/python" -m pip install --quiet -c "$constraints" \
    "pytest-homeassistant-custom-component==$phcc" -r requirements_test.txt "$@" >>"$work/pip.log" 2>&1 \
    || { grep -v '^WARNING: Location' "$work/pip.log" | tail -30 >&2; return 1; }
  rm -rf "$work"
  echo "$stamp_text" >"$stamp_file"
}

# Extra packages for one purpose (the demo's Home Assistant runtime, ...), installed under the
# package constraints of the Home Assistant already in DIR. They keep a stamp of their own, so
# scripts/test's stamp stays valid and alternating test and demo runs install nothing.
#
#   ensure_extras DIR NAME [REQUIREMENT...]
ensure_extras() {
  local dir=$1 name=$2
  shift 2
  local stamp_file="$dir/.energy-gateway-$name-stamp" stamp_text constraints pip_log
  stamp_text="$(cat "$dir/.energy-gateway-stamp" 2>/dev/null) | $*"
  if [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp_text" ]; then
    return 0
  fi
  constraints=$(ls "$dir"/lib/python3*/site-packages/homeassistant/package_constraints.txt 2>/dev/null | head -1)
  [ -n "$constraints" ] || { log "No Home Assistant in $dir."; return 1; }
  [ $# -eq 0 ] || log "Installing $name requirements into $dir: $*"
  pip_log=$(mktemp)
  if [ $# -gt 0 ] && ! "$dir/bin/python" -m pip install --quiet -c "$constraints" "$@" >"$pip_log" 2>&1; then
    grep -v '^WARNING: Location' "$pip_log" | tail -30 >&2
    rm -f "$pip_log"
    return 1
  fi
  rm -f "$pip_log"
  echo "$stamp_text" >"$stamp_file"
}

# The environment of scripts/demo and the browser journey: scripts/test's `.venv` (Home
# Assistant 2025.4.4 on Python 3.13) plus what Home Assistant needs to run for real (frontend,
# recorder, ...), read from the manifests of the integrations the demo loads.
#
#   ensure_demo_venv
ensure_demo_venv() {
  local py extras
  py=$(find_python313) || { log "Python 3.13 not found (looked on PATH and under pyenv)."; return 2; }
  ensure_venv .venv "$py" 0.13.236 2025.4.4
  read -r -a extras <<<"$(.venv/bin/python scripts/demo.py --requirements)"
  ensure_extras .venv demo "${extras[@]}"
}
