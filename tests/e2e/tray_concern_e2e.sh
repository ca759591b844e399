#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# "Report a concern" end to end, through the real tray on a real (virtual) X desktop:
# Xvfb + trayer, ward-collector on its embedded store (TLS on 127.0.0.1), ward-agent enrolled to
# it with its socket (enforcers off: nothing on this machine is touched), and the tray as the
# learner (uid 65534 when run as root; the agent names the sender from SO_PEERCRED). Every key
# and click is real X input (xdotool); the keyboard does everything but clicking the icon.
#  1. ward_tray_e2e_harness (the tray-ui library, with eyes: it reports what it shows on
#     stdout): accept the agreement, open the menu from the icon, "Report a concern", choose a
#     category, type, Tab to Send, Return. The dialog must show the reference code; `wardctl
#     concerns list` must show that reference, category and text; the dialog must then say
#     "Received by the safeguarding team". Then the policy view from the menu.
#  2. The real ward-tray binary: the same report by keyboard (mnemonics); the collector must
#     list it with the reference the agent stored and the agent must hear it arrived.
# Screenshots of the menu on the tray, the dialog, the sent dialog and the policy view are
# written to the output directory (docs/screenshots/ by tray_screenshots.sh).
#   Usage: tray_concern_e2e.sh [screenshot dir]
#   The binaries are taken from build/ci unless WARD_COLLECTOR_BIN, WARDCTL_BIN, WARD_AGENT_BIN,
#   WARD_TRAY_BIN and WARD_TRAY_E2E_HARNESS_BIN name them (ctest does).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
shots=${1:-}
bin=$src/build/ci
collector=${WARD_COLLECTOR_BIN:-$bin/collector/server/ward-collector}
wardctl=${WARDCTL_BIN:-$bin/collector/ctl/wardctl}
agent=${WARD_AGENT_BIN:-$bin/agent/app/ward-agent}
tray=${WARD_TRAY_BIN:-$bin/tray-ui/ward-tray}
harness=${WARD_TRAY_E2E_HARNESS_BIN:-$bin/tests/e2e/ward_tray_e2e_harness}
for b in "$collector" "$wardctl" "$agent" "$harness" "$tray"; do
  [[ -x $b ]] || { echo "tray_e2e: $b is not built" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "tray_e2e: jq is missing (scripts/setup-debian.sh)" >&2; exit 1; }
# shellcheck source=tests/e2e/x_session.sh
source "$src/tests/e2e/x_session.sh"

# shellcheck source=tests/e2e/collector_session.sh
source "$src/tests/e2e/collector_session.sh"
e2e_begin tray_e2e

# The tray runs as the learner: uid 65534 when we are root (as scripts/demo-concern.sh does).
as_learner=()
if [[ $(id -u) -eq 0 ]] && getent passwd 65534 >/dev/null; then
  as_learner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
learner=$("${as_learner[@]}" id -un)
mkdir -p "$work/home" "$work/xdg"
chmod 0700 "$work/xdg"
[[ ${#as_learner[@]} -eq 0 ]] || chown 65534:65534 "$work/home" "$work/xdg"
learner_env=(env -i PATH=/usr/bin:/bin HOME="$work/home" XDG_RUNTIME_DIR="$work/xdg"
  LANG=C.UTF-8 QT_QPA_PLATFORM=xcb)

step "the desktop: Xvfb + trayer"
start_x_session "$work" 1024x768
x() { DISPLAY=$display xdotool "$@"; }

step "the collector on 127.0.0.1, a signed policy, a DSL token"
"$wardctl" keygen --out-dir "$work/keys" >/dev/null
"$wardctl" policy sign "$src/tests/testdata/policy/sample-under18.json" \
  --key "$work/keys/ward-policy.key" --out "$work/policy.bundle" >/dev/null
cdir=$work/collector
"$collector" init --data-dir "$cdir" --host 127.0.0.1 >/dev/null
start_collector "$cdir" "$work/collector.log" --log-level info
url=https://127.0.0.1:$port
"$collector" add-group --data-dir "$cdir" --name learners-under-18 \
  --pubkey-file "$work/keys/ward-policy.pub" >/dev/null
"$collector" enrolment-secret --data-dir "$cdir" --group learners-under-18 >"$work/enrolment.secret"
chmod 0600 "$work/enrolment.secret"
dsl=(--collector "$url" --ca "$cdir/ca.pem" \
  --token "$("$collector" token create --data-dir "$cdir" --role dsl --name "DSL e2e")")

step "ward-agent, enrolled, with its socket"
start_agent "$url" "$cdir/ca.pem" "$work/enrolment.secret" "$work/policy.bundle" \
  "$work/keys/ward-policy.pub"

# Lines the tray harness printed after the last `mark`, awaited with a bound.
out=$work/harness.out
seen=0
mark() { seen=$(wc -l <"$out"); }
await() { # <extended regex> [seconds]; prints the first matching line after the mark
  local pattern=$1 tenths=$((${2:-10} * 10)) line
  for ((i = 0; i < tenths; i++)); do
    if line=$(tail -n +"$((seen + 1))" "$out" | grep -m1 -E -- "$pattern"); then
      printf '%s\n' "$line"
      return 0
    fi
    sleep 0.1
  done
  fail "the tray did not show '$pattern' within ${2:-10} s"
}
await_exactly() { # <line> [seconds]: as await, for a line given literally
  local tenths=$((${2:-10} * 10))
  for ((i = 0; i < tenths; i++)); do
    tail -n +"$((seen + 1))" "$out" | grep -qFx -- "$1" && return 0
    sleep 0.1
  done
  fail "the tray did not show '$1' within ${2:-10} s"
}
# Presses Tab until the keyboard focus is on <accessible name>.
tab_to() {
  local name=$1
  for _ in $(seq 8); do
    mark
    x key Tab
    if line=$(await "^FOCUS " 5) && [[ $line == "FOCUS $name" ]]; then return 0; fi
  done
  fail "Tab never reached '$name'"
}
capture() { # <name.png> <x> <y> <w> <h>: a part of the screen, into the screenshot directory
  [[ -n $shots ]] || return 0
  mkdir -p "$shots"
  xwd -root -silent -display "$display" |
    convert xwd:- -crop "${4}x${5}+${2}+${3}" +repage "$shots/$1"
  local colours
  colours=$(convert "$shots/$1" -format %k info:)
  ((colours >= 8)) || fail "the capture $1 is blank ($colours colours)"
  echo "wrote $shots/$1"
}
open_menu() {
  mark
  x mousemove "$icon_x" "$icon_y" click 1
  read -r _ _ mx my mw mh < <(await "^SHOWN menu ")
}

step "the tray (tray-ui with eyes) as $learner"
: >"$out"
"${as_learner[@]}" "${learner_env[@]}" DISPLAY="$display" "$harness" "$socket" \
  >"$out" 2>"$work/harness.log" &
pids+=($!)
read -r _ ix iy iw ih < <(await "^ICON " 20)
icon_x=$((ix + iw / 2))
icon_y=$((iy + ih / 2))

step "the acceptable use agreement comes up by itself: Tab to 'I agree', Return"
await "^SHOWN aup " 15 >/dev/null
tab_to "I agree"
mark
x key Return
await "^AUP-ACCEPTED" 10 >/dev/null
mark
x key Escape
await "^HIDDEN aup" >/dev/null

step "click the icon: the menu opens on the tray"
open_menu
# The menu and the tray's corner of the screen.
left=$((mx < ix ? mx : ix))
capture tray-menu.png $((left - 20)) 0 $((1024 - left + 20)) $((my + mh + 20))

step "R (Report a concern); Down picks a category, Tab, type, Tab to Send, Return"
mark
x key r
await "^HIDDEN menu" >/dev/null
read -r _ _ dx dy dw dh < <(await "^SHOWN concern ")
await "^FOCUS What happened$" >/dev/null
text="People in my class group chat keep posting mean things about me."
mark
x key Down
x key Tab
await "^FOCUS What happened, in your own words$" >/dev/null
x type --delay 2 "$text"
await_exactly "TEXT $text"
capture concern-dialog.png "$dx" "$dy" "$dw" "$dh"
tab_to "Send report"
mark
x key Return
sent=$(await "^SENT " 15)
read -r _ reference category shown_text <<<"$sent"
echo "the dialog shows reference $reference ($category: $shown_text)"
[[ $reference =~ ^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$ ]] || fail "odd reference '$reference'"
[[ $category == CONCERN_CATEGORY_BULLYING ]] || fail "the dialog held category $category"
[[ $shown_text == "$text" ]] || fail "the dialog held '$shown_text', not what was typed"

# Polls `wardctl concerns list --json` (as the DSL) until a concern matches <jq filter>.
await_concern() { # <jq select expression> <seconds>
  local filter=$1 tenths=$(($2 * 10)) found
  for ((i = 0; i < tenths; i++)); do
    found=$("$wardctl" concerns list --json "${dsl[@]}" | jq -c ".[] | select($filter)")
    if [[ -n $found ]]; then
      printf '%s\n' "$found"
      return 0
    fi
    sleep 0.1
  done
  fail "no concern matching $filter reached the collector within $2 s"
}
# The collector's JSON names categories by their number in event.proto: 1 bullying, 2 someone
# online made me uncomfortable.
step "the DSL sees it: wardctl concerns list"
concern=$(await_concern ".reference == \"$reference\"" 30)
jq -e --arg text "$text" --arg user "$learner" \
  '.category == 1 and .text == $text and .user == $user and .anonymous == false' \
  <<<"$concern" >/dev/null || fail "the collector's copy differs: $concern"
"$wardctl" concerns list "${dsl[@]}" | grep -F "ref $reference" ||
  fail "wardctl concerns list does not show ref $reference"

step "the learner hears it arrived"
await "^RECEIVED $reference$" 30 >/dev/null
echo "the dialog says: Received by the safeguarding team"
capture concern-sent.png "$dx" "$dy" "$dw" "$dh"
mark
x key Return # Close has the focus
await "^HIDDEN concern" >/dev/null

step "M (My policy) from the menu"
open_menu
mark
x key m
read -r _ _ px py pw ph < <(await "^SHOWN policy ")
await "^POLICY-READY" >/dev/null
capture policy-view.png "$px" "$py" "$pw" "$ph"
mark
x key Escape
await "^HIDDEN policy" >/dev/null
kill "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null || true
unset 'pids[-1]'

step "the real ward-tray binary: a report by keyboard alone"
# No eyes here: the window title says the dialog is up, the agent and the collector say the rest.
"${as_learner[@]}" "${learner_env[@]}" DISPLAY="$display" "$tray" --socket "$socket" \
  >"$work/ward-tray.log" 2>&1 &
pids+=($!)
# Waits until `xdotool search <args>` finds at least <count> windows; prints the last found.
until_windows() { # <count> <what, for the message> <xdotool search args...>
  local count=$1 what=$2 found
  shift 2
  for ((i = 0; i < 100; i++)); do
    found=$(x search "$@" 2>/dev/null || true)
    if (($(grep -c . <<<"$found") >= count)); then
      tail -n1 <<<"$found"
      return 0
    fi
    sleep 0.1
  done
  fail "ward-tray: no $what within 10 s"
}
# The icon is in the tray once trayer's panel has grown from its empty 2 pixels around it.
for _ in $(seq 100); do
  panel_width=$(x search --name '^panel$' getwindowgeometry |
    sed -n 's/.*Geometry: \([0-9]*\)x.*/\1/p')
  ((panel_width > 2)) && break
  sleep 0.1
done
((panel_width > 2)) || fail "ward-tray put no icon on the tray"
until_windows 1 "icon" --onlyvisible --classname '^ward-tray$' >/dev/null
x mousemove "$icon_x" "$icon_y" click 1
until_windows 2 "menu on the icon" --onlyvisible --classname '^ward-tray$' >/dev/null
x key r
dialog=$(until_windows 1 "concern dialog" --onlyvisible --name '^Report a concern')
for _ in $(seq 100); do
  [[ $(x getwindowfocus 2>/dev/null) == "$dialog" ]] && break
  sleep 0.1
done
[[ $(x getwindowfocus) == "$dialog" ]] || fail "ward-tray: the concern dialog has no keyboard focus"
text2="Someone I don't know online keeps asking where I live."
x key Down Down
x key alt+t
x type --delay 2 "$text2"
x key alt+n
concern2=$(await_concern ".text == \"$text2\"" 30)
jq -e '.category == 2' <<<"$concern2" >/dev/null ||
  fail "the collector's copy differs: $concern2"
reference2=$(jq -r .reference <<<"$concern2")
grep '"concern stored"' "$work/agent.log" | grep -qF "$reference2" ||
  fail "the agent did not log storing $reference2"
for _ in $(seq 300); do
  grep 'concern received by the collector' "$work/agent.log" | grep -qF "$reference2" && break
  sleep 0.1
done
grep 'concern received by the collector' "$work/agent.log" | grep -qF "$reference2" ||
  fail "the agent did not hear that $reference2 arrived"
echo "ward-tray: reference $reference2 reached the DSL and the agent heard it arrived"

keep_logs=0
echo "tray_e2e: passed"
