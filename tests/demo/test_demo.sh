#!/usr/bin/env bash
# Runs scripts/demo (the README's first command) with the ifx under test and checks what it
# prints: for each server, 2000 sent, 1999 written, the one poison message rejected, 1999 read
# back, a time and a rate; and that every server it started has stopped.
set -euo pipefail
ifx=$1 src=$2
pidfile=$(mktemp)
out=$(mktemp)
trap 'rm -f "$pidfile" "$out"' EXIT
IFX_BIN=$ifx IFX_DEMO_PIDFILE=$pidfile "$src/scripts/demo" >"$out" 2>&1 || {
  echo "demo failed:"; cat "$out"; exit 1; }
cat "$out"
fail=0
for label in "InfluxDB 1.x (real)" "InfluxDB 3 (test server)"; do
  row=$(grep -F "  $label" "$out" || true)
  read -r -a f <<<"${row#*)}"
  if [ "${f[0]:-}" != 2000 ] || [ "${f[1]:-}" != 1999 ] || [ "${f[2]:-}" != 1 ] ||
     [ "${f[3]:-}" != 1999 ] || ! [[ "${f[4]:-}" =~ ^[0-9]+\.[0-9]+$ ]] ||
     ! [[ "${f[5]:-}" =~ ^[0-9]+$ ]]; then
    echo "unexpected row for $label: [$row]"; fail=1
  fi
done
grep -q '"reason"' "$out" || { echo "the dead-letter entry is not shown"; fail=1; }
[ "$(wc -l <"$pidfile")" -eq 2 ] || { echo "expected 2 servers started"; fail=1; }
while read -r pid; do
  if kill -0 "$pid" 2>/dev/null; then echo "server $pid still running after the demo"; fail=1; fi
done <"$pidfile"
[ $fail -eq 0 ] && echo "demo test: 1 passed, 0 failed"
exit $fail
