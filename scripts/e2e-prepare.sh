#!/usr/bin/env bash
# Installs what `make e2e` needs, pinned and locked, and prints the Langflow virtualenv's path.
# Debian packages: bubblewrap (read-only root), postgresql, iproute2 (pod network namespaces),
# openssl (the database's TLS certificate), patchelf (the copied interpreter finds its own libpython);
# scripts/e2e-browser.sh adds chromium, chromium-driver and Selenium (the UI test's browser).
# Langflow: requirements-e2e.lock into a relocatable virtualenv under E2E_HOME, readable by uid 1000
# (the pods' user), reused while the lock is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_HOME=${E2E_HOME:-/var/cache/langflow-e2e}
fail() { printf 'error: make e2e: %s\nfix: %s\n' "$1" "$2" >&2; exit 2; }

[ "$(id -u)" = 0 ] || fail "runs as uid $(id -u), not root" "run it as root: it creates network namespaces, cgroups and pod users like a kubelet"
[ "$(uname -sm)" = "Linux x86_64" ] || fail "$(uname -sm) is not Linux x86_64" "requirements-e2e.lock is resolved for x86_64 Linux; regenerate it for this platform"

missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v ip >/dev/null || missing+=(iproute2)
command -v openssl >/dev/null || missing+=(openssl)
command -v patchelf >/dev/null || missing+=(patchelf)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "missing ${missing[*]} and no apt-get" "install ${missing[*]} with this system's package manager"
  echo "e2e: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python 3.12, as in the image; copied under E2E_HOME so that uid 1000 can run it (pyenv lives in /root).
base=""
for candidate in "$(command -v python3.12 2>/dev/null || true)" /root/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do
  if [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
    base=$("$candidate" -c 'import sys; print(sys.base_prefix)'); break
  fi
done
[ -n "$base" ] || fail "no Python 3.12 found (the image runs Langflow on 3.12)" "install Python 3.12 (pyenv install 3.12, or a python3.12 package)"

stamp=$(cat requirements-e2e.lock requirements-e2e-tools.lock | sha256sum | cut -c1-16)
venv=$E2E_HOME/venv-$stamp
if [ ! -f "$venv/.installed" ]; then
  mkdir -p "$E2E_HOME"
  if [ ! -x "$E2E_HOME/python/bin/python3.12" ]; then
    rm -rf "$E2E_HOME/python.tmp"; cp -a "$base" "$E2E_HOME/python.tmp"
    # pyenv builds a shared libpython with an absolute RUNPATH into /root: point it at the copy.
    patchelf --set-rpath '$ORIGIN/../lib' "$E2E_HOME/python.tmp/bin/python3.12"
    mv "$E2E_HOME/python.tmp" "$E2E_HOME/python"
  fi
  if [ ! -x "$E2E_HOME/tools/bin/uv" ]; then
    python3 -m venv "$E2E_HOME/tools"
    "$E2E_HOME/tools/bin/pip" install -q --disable-pip-version-check --require-hashes -r requirements-e2e-tools.lock
  fi
  echo "e2e: installing Langflow 1.13.0 into $venv (about a minute with a warm cache)" >&2
  rm -rf "$venv"
  "$E2E_HOME/tools/bin/uv" venv -q --relocatable --python "$E2E_HOME/python/bin/python3.12" "$venv"
  VIRTUAL_ENV=$venv "$E2E_HOME/tools/bin/uv" pip sync -q --require-hashes --link-mode=copy requirements-e2e.lock
  # Bytecode compiled now: the pods' root is read-only, as in the image, which ships it compiled.
  "$venv/bin/python" -m compileall -q -j 2 "$venv/lib/python3.12/site-packages" >/dev/null 2>&1 || true
  chmod -R a+rX "$E2E_HOME"
  touch "$venv/.installed"
fi
chmod a+rx "$E2E_HOME"
bash scripts/e2e-browser.sh >/dev/null  # Chromium and Selenium for tests/e2e/test_dev_ui.py
echo "$venv"
