#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The console's vendored Preact and htm must be the files of the npm packages pinned in
# package-lock.json, byte for byte (what is served is what was reviewed). Run after `npm ci`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
www=$here/../../collector/console/www/vendor
nm=$here/node_modules
status=0
while read -r vendored npm; do
  if ! cmp -s "$www/$vendored" "$nm/$npm"; then
    echo "vendored $vendored differs from node_modules/$npm" >&2
    status=1
  fi
done <<'LIST'
preact/preact.mjs preact/dist/preact.mjs
preact/hooks.mjs preact/hooks/dist/hooks.mjs
preact/LICENSE preact/LICENSE
htm/htm.mjs htm/dist/htm.mjs
htm/LICENSE htm/LICENSE
LIST
((status == 0)) && echo "vendored preact $(jq -r .version "$nm/preact/package.json") and htm $(jq -r .version "$nm/htm/package.json") match the pinned packages"
exit "$status"
