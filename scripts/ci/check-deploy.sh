#!/usr/bin/env bash
# The files of deploy/ as an operator loads them:
#   deploy/systemd/dialguard.service   systemd-analyze verify, then its exposure score
#   deploy/prometheus/*.yml            promtool check rules, then promtool test rules
#
#   scripts/ci/check-deploy.sh BIN     # BIN: the dialguard that scripts/ci/pack-install.sh installed
#
# systemd-analyze verify refuses a unit whose command does not exist, and the unit names
# `dialguard` as systemd finds it on a real host (/usr/local/bin or /usr/bin). So the unit is
# verified as shipped but for that one word, replaced by BIN: the packed and installed binary.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:?usage: check-deploy.sh BIN}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== check-deploy: %s\n' "$*"; }
fail() {
  printf 'check-deploy: FAILED: %s\n' "$*" >&2
  exit 1
}

[ -x "$bin" ] || fail "no executable $bin"
unit="$root/deploy/systemd/dialguard.service"

step "systemd-analyze verify deploy/systemd/dialguard.service (ExecStart: $bin)"
[ "$(grep -c '^ExecStart=dialguard ' "$unit")" -eq 1 ] || fail "the unit has no single 'ExecStart=dialguard …' line"
sed "s#^ExecStart=dialguard #ExecStart=$bin #" "$unit" >"$work/dialguard.service"
# verify exits 0 on an unknown key or a value it cannot parse (it only warns): any output fails.
if ! out=$(systemd-analyze verify "$work/dialguard.service" 2>&1) || [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  fail "systemd-analyze verify"
fi
echo "no warnings"

step "systemd-analyze security: exposure at most 2.0"
# --threshold is on a 0-100 scale (20 is the 2.0 printed); a weakened unit fails here.
if ! systemd-analyze security --offline=true --threshold=20 "$work/dialguard.service" >"$work/security.txt" 2>&1; then
  cat "$work/security.txt" >&2
  fail "the unit's exposure is above 2.0"
fi
tail -n 1 "$work/security.txt"

step "promtool check rules deploy/prometheus/dialguard-rules.yml"
promtool check rules "$root/deploy/prometheus/dialguard-rules.yml" || fail "promtool check rules"

step "promtool test rules test/prometheus/dialguard-rules.test.yml"
promtool test rules "$root/test/prometheus/dialguard-rules.test.yml" || fail "promtool test rules"

echo
echo "check-deploy: OK"
