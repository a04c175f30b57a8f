# Shared by scripts/test and scripts/demo: installs what they need, once, idempotently.
# Everything goes into folders the repo ignores; nothing outside them is assumed.

# Installs Debian packages, if any are named: as root directly, else through sudo (CI runners).
apt_install() {
  (($#)) || return 0
  echo "installing Debian packages: $*" >&2
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

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
  apt_install "${missing[@]}"
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install a Rust toolchain (1.89 or newer) with rustup, then run this again" >&2
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
  ensure_venv tests/python/.venv tests/python/requirements.txt
  # The SDK's 2.x line (both protocol eras) as a real client and server; 1.x above runs the
  # OAuth authorization server.
  ensure_venv tests/python-sdk2/.venv tests/python-sdk2/requirements.txt
}

# A venv at $1 holding exactly the pinned packages of $2, made anew when $2 changes.
ensure_venv() {
  local venv=$1 requirements=$2 stamp=$1/.installed-requirements
  if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
    echo "installing the pinned Python packages of $requirements in $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
  fi
}

# Prints a heading for the next step of a script.
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

# For scripts/check-platforms: Debian's Rust 1.96 with its std source (rustup cannot fetch
# other targets' std here; -Zbuild-std builds it from the source), mingw-w64 to link
# Windows programs, Wine to run them. See ../shared/platforms.md.
WINDOWS=x86_64-pc-windows-gnu
ensure_cross() {
  local missing=()
  # Debian's plain rustc (1.63 in bookworm) has the same paths but is far too old.
  dpkg -s rustc-web cargo-web rust-web-src >/dev/null 2>&1 ||
    missing+=(rustc-web cargo-web rust-web-src)
  dpkg -s rust-web-clippy >/dev/null 2>&1 || missing+=(rust-web-clippy)
  command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=(gcc-mingw-w64-x86-64)
  [[ -x /usr/lib/wine/wine64 ]] || missing+=(wine64)
  apt_install "${missing[@]}"
}

# The environment of every cross build: Debian's toolchain first (rustup's proxies would ask
# for a std source they cannot fetch), a target folder of its own, Wine as the test runner.
cross_env() {
  # /usr/bin first, before rustup's ~/.cargo/bin; the rest of PATH stays for npm and node.
  export PATH=/usr/bin:/bin:$PATH RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=/usr/lib/wine/wine64
  export WINEPREFIX=$PWD/target/wine WINEDEBUG=-all
  # Debug info makes a 280 MB mcpgw.exe and slows every link; the checks need none.
  export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0
  CROSS_TARGET_DIR=$PWD/target/cross
  CROSS_FLAGS=(-Zbuild-std=std,panic_abort --target-dir "$CROSS_TARGET_DIR")
}

# cargo with std built from source for the target (-Zbuild-std).
cross() {
  /usr/bin/cargo "$@" "${CROSS_FLAGS[@]}"
}

cross_clippy() {
  /usr/bin/cargo-clippy clippy "$@" "${CROSS_FLAGS[@]}" -- -D warnings
}

# A Wine prefix in target/wine, with the ProcessPrng stub (scripts/windows/processprng.c):
# Rust's Windows std needs it and Wine 8 lacks it, so without it every program dies before
# main, silently.
ensure_wine_prefix() {
  local dll=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
  local src=scripts/windows/processprng.c def=scripts/windows/bcryptprimitives.def
  if [[ ! -f $WINEPREFIX/system.reg ]]; then
    echo "making a Wine prefix in $WINEPREFIX" >&2
    mkdir -p "$(dirname "$WINEPREFIX")"
    /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1
  fi
  if [[ ! -f $dll || $src -nt $dll || $def -nt $dll ]]; then
    x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" "$src" "$def" -ladvapi32
  fi
}

# Stops the Wine server of our prefix (never the user's own: only when WINEPREFIX is ours).
wineserver_stop() {
  [[ ${WINEPREFIX:-} == "$PWD/target/wine" ]] || return 0
  /usr/lib/wine/wineserver -k 2>/dev/null || true
}

# A short demo of a Windows mcpgw.exe under Wine ($1), in front of the tiny example server ($2):
# a key into the Credential Manager, the server's tools, and a call that shows the child got
# its key. Works in a scratch folder under $3.
windows_demo() {
  local exe=$1 tiny=$2 dir=$3/windows-demo name config out
  mkdir -p "$dir"
  name=demo$RANDOM$RANDOM
  config="$dir/$name.toml"
  printf '[secrets]\nstore = "keyring"\n\n[servers.%s]\ncommand = '"'"'%s'"'"'\nenv = { TINY_KEY = "{secret}" }\n' \
    "$name" "$(winepath_of "$tiny")" >"$config"
  local wine=(/usr/lib/wine/wine64 "$exe" --config "$(winepath_of "$config")")
  echo "  $exe" >&2
  printf 'sk-demo-key' | "${wine[@]}" add-key "$name" --stdin >&2
  "${wine[@]}" tools "$name" >&2
  out=$("${wine[@]}" call "${name}__env" '{"name": "TINY_KEY"}')
  "${wine[@]}" remove-key "$name" >&2
  [[ $out == sk-demo-key* ]] || { echo "the Windows demo got '$out'" >&2; return 1; }
}

# A Linux path as Windows programs under Wine see it (Z: is /).
winepath_of() {
  local path
  path=$(realpath "$1")
  printf 'Z:%s' "${path//\//\\}"
}
