# shellcheck shell=bash
# Shared by ./hangar, scripts/test and .ci/run (source it, then call the functions):
# pnpm at the version package.json pins, an install when node_modules is missing or older
# than the lockfile, and a turbo build (cached, so cheap when nothing changed).

HANGAR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export HANGAR_ROOT
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1

hangar_say() {
  printf 'bootstrap: %s\n' "$*" >&2
}

hangar_check_node() {
  if ! command -v node >/dev/null 2>&1; then
    hangar_say "Node.js is not installed: install Node.js 20.19 or newer (https://nodejs.org or apt-get install nodejs)"
    return 1
  fi
  local major minor
  IFS=. read -r major minor _ <<<"$(node -p 'process.versions.node')"
  if ((major < 20 || (major == 20 && minor < 19))); then
    hangar_say "Node.js $(node -v) is too old: Hangar needs 20.19 or newer"
    return 1
  fi
}

hangar_pnpm_version() {
  node -p "String(require(process.argv[1]).packageManager || 'pnpm@10').replace(/^pnpm@/, '').split('+')[0]" \
    "$HANGAR_ROOT/package.json"
}

# corepack is not used: it refuses to fetch pnpm on some machines; npx reaches the npm registry.
hangar_pnpm() {
  npx --yes --loglevel=error "pnpm@$(hangar_pnpm_version)" "$@"
}

hangar_install() {
  hangar_check_node || return 1
  local modules="$HANGAR_ROOT/node_modules/.modules.yaml"
  local stamp="$HANGAR_ROOT/node_modules/.hangar-installed"
  local lock="$HANGAR_ROOT/pnpm-lock.yaml"
  # pnpm may leave .modules.yaml untouched when nothing changed, so a stamp records our last install.
  if [[ ! -f "$modules" ]] || { [[ "$lock" -nt "$modules" ]] && { [[ ! -f "$stamp" ]] || [[ "$lock" -nt "$stamp" ]]; }; }; then
    hangar_say "installing dependencies (pnpm install --frozen-lockfile)"
    (cd "$HANGAR_ROOT" && hangar_pnpm install --frozen-lockfile --loglevel=info) || return 1
    touch "$stamp"
  fi
}

hangar_build() {
  hangar_say "building (turbo run build; unchanged packages come from the cache)"
  (cd "$HANGAR_ROOT" && hangar_pnpm turbo run build --output-logs=errors-only "$@")
}

# Debian packages Hangar runs besides Node. Installed when missing and this is a Debian machine
# we are root on; otherwise named, with what needs them.
hangar_debian_packages() {
  local purpose="$1"
  shift
  local missing=("$@")
  ((${#missing[@]} == 0)) && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    hangar_say "installing ${missing[*]} ($purpose)"
    # Package scripts must not start services on this machine (nginx would take port 80).
    local policy=/usr/sbin/policy-rc.d created_policy=""
    if [[ ! -e "$policy" ]]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    local status=0
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
      >/dev/null 2>&1 || status=$?
    [[ -n "$created_policy" ]] && rm -f "$policy"
    if ((status != 0)); then
      hangar_say "could not install ${missing[*]} (apt-get failed): $purpose will not work"
    fi
    return 0
  fi
  hangar_say "missing ${missing[*]}: install them (apt-get install ${missing[*]}); $purpose needs them"
}

# The agent-runner runs every agent CLI inside a bubblewrap sandbox, reaching the runner through
# socat (docs/security.md); it refuses to start without them unless RUNNER_SANDBOX=off.
hangar_runtime_packages() {
  local missing=()
  [[ -x /usr/bin/bwrap ]] || missing+=(bubblewrap)
  [[ -x /usr/bin/socat ]] || missing+=(socat)
  hangar_debian_packages "the agents' sandbox" "${missing[@]}"
}

# What some end-to-end tests run besides Node: Debian's NGINX (in front of the websocket-pool
# replicas), python3-socketio (a Socket.IO client written by someone else), Prometheus (scraping
# the services' /metrics), Alertmanager (receiving Hangar's alerts) and Chromium (the dashboard's
# browser tests, driven by playwright-core).
hangar_test_packages() {
  hangar_runtime_packages
  local missing=()
  [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  /usr/bin/python3 -c 'import socketio, websocket' >/dev/null 2>&1 || missing+=(python3-socketio python3-websocket)
  [[ -x /usr/bin/prometheus ]] || missing+=(prometheus)
  [[ -x /usr/bin/prometheus-alertmanager ]] || missing+=(prometheus-alertmanager)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  hangar_debian_packages "the end-to-end and browser tests" "${missing[@]}"
}
