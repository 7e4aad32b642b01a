#!/usr/bin/env bash
# The package as an operator gets it: `npm pack`, `npm install -g` of the tarball into PREFIX (a
# throwaway folder), then the installed `dialguard`, run from a folder that is not the clone:
# --version, check, and `serve` answering one FastAGI authorize session as Asterisk sends it.
#
#   scripts/ci/pack-install.sh PREFIX      # PREFIX/bin/dialguard is left for the deploy checks
#
# Any step that does not do what it should stops the script with "pack-install: FAILED: …".
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${1:?usage: pack-install.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
work=$(mktemp -d)
serve_pid=

step() { printf '\n== pack-install: %s\n' "$*"; }
fail() {
  printf 'pack-install: FAILED: %s\n' "$*" >&2
  exit 1
}
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then kill -KILL "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step "npm pack"
# `prepare` builds dist/ first; the tarball holds what package.json "files" names.
tarball=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)
[ -f "$work/$tarball" ] || fail "npm pack made no tarball"
contents=$(tar -tzf "$work/$tarball")
for file in package/dist/cli/bin.js package/dist/web/index.html package/dist/web/app.js package/dialplan/extensions-dialguard.conf \
  package/dialplan/extensions-dialguard-ari.conf package/deploy/systemd/dialguard.service package/deploy/prometheus/dialguard-rules.yml; do
  grep -qx "$file" <<<"$contents" || fail "$tarball lacks ${file#package/}"
done

step "npm install -g --prefix $prefix $tarball"
# From the registry, as an operator's install would; better-sqlite3 builds its addon here, the one
# install script the package needs.
npm install -g --prefix "$prefix" --allow-scripts=better-sqlite3 --no-audit --no-fund "$work/$tarball"
bin="$prefix/bin/dialguard"
[ -x "$bin" ] || fail "no executable $bin after the install"
installed="$prefix/lib/node_modules/dialguard"

# Everything below runs from an empty folder, with no access to the clone's node_modules.
mkdir -p "$work/cwd" "$work/state"
cd "$work/cwd"
export DIALGUARD_HOME_COUNTRY=US DIALGUARD_TIMEZONE=America/New_York

step "dialguard --version"
want=$(node -p "require('$installed/package.json').version")
got=$("$bin" --version) || fail "dialguard --version exited $?"
[ "$got" = "$want" ] || fail "dialguard --version printed '$got', want '$want'"
echo "$got"

step "dialguard check"
export DIALGUARD_DB="$work/state/dialguard.db"
# The embedded defaults of a US site: a New York number passes, a London one does not.
"$bin" check --ext 1001 --number 12125550123 --source 10.0.0.5:5060 || fail "check of a US number exited $?, want 0 (ALLOW)"
set +e
denied=$("$bin" check --json --ext 1001 --number 011442079460000 --source 10.0.0.5:5060)
status=$?
set -e
echo "$denied"
[ "$status" -eq 1 ] || fail "check of a UK number exited $status, want 1 (DENY)"
grep -q '"reason":"destination_country_denied"' <<<"$denied" || fail "check of a UK number: not destination_country_denied"

step "dialguard --config FILE serve (as deploy/systemd/dialguard.service starts it), from $work/cwd"
# A JSON config file as /etc/dialguard/dialguard.conf, on free ports; DIALGUARD_DB from the environment.
printf '{ "agiListen": "127.0.0.1:0", "httpListen": "127.0.0.1:0", "homeCountry": "US", "timezone": "America/New_York" }\n' >"$work/dialguard.conf"
"$bin" --config "$work/dialguard.conf" serve >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 300); do
  grep -q '^dialguard database ' "$work/serve.log" && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log"; fail "serve exited before it listened"; }
  sleep 0.1
done
grep -q '^dialguard database ' "$work/serve.log" || { cat "$work/serve.log"; fail "serve did not start within 30 s"; }
agi=$(sed -n 's/^dialguard FastAGI listening on //p' "$work/serve.log")
http=$(sed -n 's/^dialguard admin API listening on //p' "$work/serve.log")
echo "FastAGI $agi, admin API $http"

step "one FastAGI authorize session"
# The project's Asterisk double plays the call (scripts/agi-call.ts, from the clone's devDependencies).
answer=$(cd "$root" && DIALGUARD_AGI_LISTEN="$agi" node --import tsx scripts/agi-call.ts 1001 12125550123 10.0.0.5:5060) ||
  { cat "$work/serve.log"; fail "the authorize session did not end in ALLOW: $answer"; }
echo "$answer"
grep -qx 'DIALGUARD_RESULT=ALLOW' <<<"$answer" || fail "no DIALGUARD_RESULT=ALLOW in the answer"
grep -q '^DIALGUARD_CALL_ID=.' <<<"$answer" || fail "no DIALGUARD_CALL_ID in the answer"

step "the dashboard and /readyz"
node --input-type=module -e '
  const base = process.argv[1];
  const check = async (path, test) => {
    const res = await fetch(base + path);
    const body = await res.text();
    if (res.status !== 200 || !test(body)) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 200)}`);
    console.log(`GET ${path}: ${res.status}`);
  };
  await check("/", (body) => body.includes("<html"));
  await check("/app.js", (body) => body.length > 0);
  await check("/readyz", () => true);
' "$http" || fail "the installed package does not serve its dashboard or is not ready"

step "stop serve (SIGTERM)"
kill -TERM "$serve_pid"
set +e
wait "$serve_pid"
status=$?
set -e
serve_pid=
[ "$status" -eq 0 ] || { cat "$work/serve.log"; fail "serve exited $status on SIGTERM, want 0"; }
# An error logged on the way (pino level 50 and up) is a failure even when the calls were answered.
if grep -E '"level":(5|6)[0-9]' "$work/serve.log"; then fail "serve logged errors (above)"; fi

echo
echo "pack-install: OK ($tarball installed in $prefix, served from a folder outside the clone)"
