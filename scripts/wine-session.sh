#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A private Wine session for running the Windows build's tests on Linux.
#
#   wine-session.sh start DIR          Xvfb + a persistent wineserver for the prefix DIR/prefix
#                                      (made on first use: Windows 10, no Mono/Gecko prompts)
#   wine-session.sh run DIR PROG ARGS  runs PROG.exe under that session (ctest's emulator)
#   wine-session.sh stop DIR           stops the wineserver (and every Wine process) and Xvfb
#
# Why a persistent wineserver: Wine starts helper processes (services.exe, explorer.exe, ...) that
# inherit the standard output of the first Wine program. Under ctest that is ctest's pipe, which
# then never closes and ctest hangs. Starting the server and warming it up here, with every
# stream on /dev/null, keeps the helpers off the tests' pipes.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR  or  $0 run DIR PROGRAM [ARGS...]" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
cmd=$1
dir=$(realpath -m "$2")
shift 2

export WINEPREFIX=$dir/prefix
export WINEARCH=win64
export WINEDEBUG=${WINEDEBUG:--all}
# No dialogs offering to download Mono or Gecko (there is no network, and nothing needs them).
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}

alive() { [[ -f $1 ]] && kill -0 "$(<"$1")" 2>/dev/null; }

use_display() {
  if [[ -f $dir/display ]] && alive "$dir/xvfb.pid"; then
    DISPLAY=":$(<"$dir/display")"
    export DISPLAY
  fi
}

start_xvfb() {
  alive "$dir/xvfb.pid" && return 0
  rm -f "$dir/display" "$dir/display.tmp"
  # -displayfd picks a free display number (other Xvfb servers may run on this machine).
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$dir/display.tmp" \
    </dev/null >"$dir/xvfb.log" 2>&1 &
  echo $! >"$dir/xvfb.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    if [[ -s $dir/display.tmp ]]; then
      tr -dc '0-9' <"$dir/display.tmp" >"$dir/display"
      rm -f "$dir/display.tmp"
      return 0
    fi
    alive "$dir/xvfb.pid" || break
    sleep 0.1
  done
  echo "wine-session: Xvfb did not start (see $dir/xvfb.log)" >&2
  exit 1
}

case $cmd in
  start)
    mkdir -p "$dir" "$WINEPREFIX"
    start_xvfb
    use_display
    # Persistent until `stop`: nothing of Wine outlives a test on the test's own pipe.
    if ! wineserver -p </dev/null >"$dir/wineserver.log" 2>&1; then
      echo "wine-session: wineserver did not start:" >&2
      cat "$dir/wineserver.log" >&2
      exit 1
    fi
    if [[ ! -f $WINEPREFIX/.ward-ready ]]; then
      start=$SECONDS
      wine wineboot --init </dev/null >"$dir/wineboot.log" 2>&1
      wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f \
        </dev/null >>"$dir/wineboot.log" 2>&1
      touch "$WINEPREFIX/.ward-ready"
      echo "wine-session: new Wine prefix (Windows 10) in $WINEPREFIX, $((SECONDS - start)) s"
    else
      # Warm-up: start Wine's services now, with their streams on /dev/null.
      wine cmd /c exit 0 </dev/null >/dev/null 2>&1
    fi
    echo "wine-session: started (DISPLAY=${DISPLAY:-none}, WINEPREFIX=$WINEPREFIX)"
    ;;
  run)
    [[ $# -ge 1 ]] || usage
    use_display
    exec wine "$@"
    ;;
  stop)
    if [[ -d $WINEPREFIX ]]; then
      wineserver -k </dev/null >/dev/null 2>&1 || true
    fi
    if alive "$dir/xvfb.pid"; then
      kill "$(<"$dir/xvfb.pid")" 2>/dev/null || true
    fi
    rm -f "$dir/xvfb.pid" "$dir/display"
    echo "wine-session: stopped"
    ;;
  *) usage ;;
esac
