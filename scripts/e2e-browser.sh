#!/usr/bin/env bash
# Installs what `make e2e`'s browser test needs and prints the Python that drives the browser:
# Debian's chromium and chromium-driver (the same release, so they always fit each other; a test
# tool's own browser download cannot work offline), and Selenium from requirements-e2e-browser.lock
# into a virtualenv under E2E_HOME, reused while the lock is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_HOME=${E2E_HOME:-/var/cache/langflow-e2e}
fail() { printf 'error: make e2e: %s\nfix: %s\n' "$1" "$2" >&2; exit 2; }

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "missing ${missing[*]} and no apt-get" "install ${missing[*]} with this system's package manager"
  echo "e2e: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=$(sha256sum requirements-e2e-browser.lock | cut -c1-16)
venv=$E2E_HOME/browser-$stamp
if [ ! -f "$venv/.installed" ]; then
  echo "e2e: installing Selenium into $venv" >&2
  rm -rf "$venv"
  mkdir -p "$E2E_HOME"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r requirements-e2e-browser.lock
  touch "$venv/.installed"
fi
echo "$venv/bin/python"
