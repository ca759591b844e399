#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs, with ctest, the tests of the named test programs only.
#   scripts/ctest-programs.sh PRESET [--exclude REGEX] PROGRAM... [-- CTEST_ARGS...]
# gtest_discover_tests names each test Suite.Name, and ward_add_test gives a program one label,
# so neither -R nor -L can pick a program's tests; ctest's own list (--show-only=json-v1) says
# which program runs each test, and -I runs those by number. Tests whose full name matches
# REGEX (Python syntax, anchored at both ends) are left out. Used by the sanitizer stages of
# scripts/test.sh (docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

preset=$1
shift
exclude=""
programs=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --exclude) exclude=$2; shift 2 ;;
    --) shift; break ;;
    *) programs+=("$1"); shift ;;
  esac
done

numbers=$(ctest --preset "$preset" --show-only=json-v1 | python3 -c '
import json, os, re, sys
exclude = re.compile(sys.argv[1]) if sys.argv[1] else None
programs = set(sys.argv[2:])
found, picked = set(), []
for number, test in enumerate(json.load(sys.stdin)["tests"], start=1):
    command = test.get("command") or [""]
    program = os.path.basename(command[0])
    if program not in programs:
        continue
    found.add(program)
    if exclude and exclude.fullmatch(test["name"]):
        print("left out: " + test["name"], file=sys.stderr)
        continue
    picked.append(str(number))
missing = programs - found
if missing:
    sys.exit("no tests registered for " + " ".join(sorted(missing)) + " (not built?)")
print(",".join(picked))
' "$exclude" "${programs[@]}")
echo "$(tr ',' '\n' <<<"$numbers" | wc -l) tests of ${programs[*]}"
exec ctest --preset "$preset" -I "0,0,0,$numbers" "$@"
