# SPDX-License-Identifier: Apache-2.0
# Sourced after collector_session.sh by the scripts that run the Windows ward-agent.exe under
# Wine against a real ward-collector (tests/agent/app/windows/ward_agent_service_test.sh,
# tests/bench/agent_idle_wine.sh):
#   wine_prefix_begin        a fresh Wine prefix in $work/prefix (never the user's), made and
#                            finished before it is used (a service created while wineboot still
#                            writes the registry is lost), with a persistent wineserver that is
#                            killed, with every Wine process of the prefix, when the script ends
#   wine_agent_files <group> <pipe name> [config lines...]
#                            IT's files in C:\ward (ward=... on the Linux side): the site CA,
#                            the signed policy and its key (from start_group_collector), a new
#                            enrolment secret of <group>, and C:\ward\agent.conf syncing with $url
wine_prefix_begin() {
  export WINEPREFIX=$work/prefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
  unset DISPLAY
  # The Windows agent's own log is shown with the others when the script fails.
  trap 'cp "$WINEPREFIX/drive_c/ward/run/logs/ward-agent.log" "$work/ward-agent.log" 2>/dev/null
    wineserver -k </dev/null >/dev/null 2>&1 || true
    wineserver -w </dev/null >/dev/null 2>&1 || true; e2e_cleanup' EXIT
  wine wineboot --init </dev/null >"$work/wineboot.log" 2>&1
  wineserver -w
  wineserver -p </dev/null >/dev/null 2>&1
}

wine_agent_files() {
  local group=$1 pipe=$2 line
  shift 2
  ward=$WINEPREFIX/drive_c/ward
  mkdir -p "$ward"
  cp "$cdir/ca.pem" "$work/policy.bundle" "$work/keys/ward-policy.pub" "$ward/"
  "$collector" enrolment-secret --data-dir "$cdir" --group "$group" >"$ward/secret"
  chmod 0600 "$ward/secret"
  {
    printf '%s\n' 'policy_bundle = C:\ward\policy.bundle' 'policy_key = C:\ward\ward-policy.pub' \
      'state_dir = C:\ward\state' 'status_file = C:\ward\run\agent.status' \
      "ipc_socket = \\\\.\\pipe\\$pipe" "collector_url = $url" 'collector_ca = C:\ward\ca.pem' \
      'enrolment_secret_file = C:\ward\secret'
    for line in "$@"; do printf '%s\n' "$line"; done
  } >"$ward/agent.conf"
}
