# SPDX-License-Identifier: Apache-2.0
# Sourced by the tray's end-to-end scripts: a virtual X desktop with a tray host.
#   start_x_session <work dir> [WxH]   starts Xvfb (default 800x480) and trayer (top right),
#                                appends their PIDs to the caller's `pids` array and sets
#                                `display` (e.g. ":3"). Callers kill and wait for them by PID.
# -displayfd: Xvfb picks a free display itself and writes its number when it is ready, so this
# never lands on someone else's display. X servers starting or stopping at the same moment can
# remove each other's socket, so a desktop whose display stops answering is given up and
# another one started. trayer is up once it has its panel and the hidden window it owns the
# tray selection with (the second one named "trayer").
start_x_session() {
  local work=$1 size=${2:-800x480} tool attempt xvfb trayer
  for tool in Xvfb trayer xdotool xwd convert; do
    command -v "$tool" >/dev/null ||
      { echo "x_session: $tool is missing (scripts/setup-debian.sh)" >&2; return 1; }
  done
  for attempt in 1 2 3; do
    rm -f "$work/display"
    Xvfb -displayfd 3 -screen 0 "${size}x24" -nolisten tcp 3>"$work/display" \
      >"$work/xvfb.log" 2>&1 &
    xvfb=$!
    for _ in $(seq 100); do [[ -s "$work/display" ]] && break; sleep 0.1; done
    display=:$(tr -d '[:space:]' <"$work/display" 2>/dev/null || true)
    DISPLAY=$display trayer --edge top --align right --widthtype request --height 28 \
      --transparent false --tint 0x303030 --SetDockType true >"$work/trayer.log" 2>&1 &
    trayer=$!
    for _ in $(seq 100); do
      if DISPLAY=$display xdotool search --name '^panel$' >/dev/null 2>&1 &&
        (($(DISPLAY=$display xdotool search --name '^trayer$' 2>/dev/null | wc -l) >= 2)); then
        pids+=("$xvfb" "$trayer")
        return 0
      fi
      kill -0 "$trayer" 2>/dev/null || break
      sleep 0.1
    done
    kill "$trayer" "$xvfb" 2>/dev/null || true
    wait "$trayer" "$xvfb" 2>/dev/null || true
    echo "x_session: no usable desktop on display '$display' (attempt $attempt)" >&2
  done
  cat "$work/xvfb.log" "$work/trayer.log" >&2
  return 1
}
