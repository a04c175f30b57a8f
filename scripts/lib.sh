# Shared by scripts/test and scripts/demo: installs what they need, once, idempotently.
# Everything goes into folders the repo ignores; nothing outside them is assumed.

# Debian packages: Node.js and npm (to install the pinned MCP servers), a C toolchain for
# crates that build C, and gnome-keyring with dbus for the keyring tests.
ensure_system() {
  local missing=()
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
  command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
  # A real Secret Service for the keyring tests (each test starts its own, privately).
  command -v gnome-keyring-daemon >/dev/null 2>&1 || missing+=(gnome-keyring)
  command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus-daemon)
  command -v dbus-send >/dev/null 2>&1 || missing+=(dbus-bin)
  # Python with venv, for the OAuth authorization server of the Python `mcp` SDK.
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install a Rust toolchain (1.88 or newer) with rustup, then run this again" >&2
    exit 1
  fi
}

# The pinned npm packages the tests and the demo run against (tests/npm/package-lock.json).
ensure_peers() {
  local stamp=tests/npm/node_modules/.installed-lock
  if ! cmp -s tests/npm/package-lock.json "$stamp" 2>/dev/null; then
    echo "installing the pinned MCP servers in tests/npm (npm ci)" >&2
    (cd tests/npm && npm ci --no-audit --no-fund --loglevel=error)
    cp tests/npm/package-lock.json "$stamp"
  fi
}

# The pinned PyPI packages (tests/python/requirements.txt) in tests/python/.venv.
ensure_python() {
  local venv=tests/python/.venv stamp=tests/python/.venv/.installed-requirements
  if ! cmp -s tests/python/requirements.txt "$stamp" 2>/dev/null; then
    echo "installing the pinned Python packages in $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/python/requirements.txt
    cp tests/python/requirements.txt "$stamp"
  fi
}
