#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cross-builds Ward's Windows (x86_64, mingw-w64) dependencies from Debian's own source packages
# into one prefix, /var/cache/ward/windows/prefix (override with WARD_WINDOWS_CACHE; the prefix
# path is baked into .pc and Qt's CMake files, so it must stay where it was built).
#
# Components: OpenSSL 3.0, protobuf 3.21.12, SQLCipher 4.6.1 (bookworm-backports), libusb 1.0.26,
# GoogleTest (/usr/src/googletest) and qtbase 6.4.2 (Core, Gui, Widgets, Network, Test; the
# windows platform plugin; Schannel TLS). Sources come from `apt-get source` (dpkg-source -x, so
# Debian's patches are applied) through a deb-src entry copied from this machine's own Debian
# source, like setup-debian.sh derives backports.
#
# Cache: each component is built once per key = its source package version + the mingw-w64
# toolchain's versions + a hash of its recipe (and of the keys of the components it builds
# against). Its installed files are kept as an artefact; the prefix is assembled from the
# artefacts. Editing one recipe rebuilds only that component (and what builds against it).
# When everything is cached the script only checks and returns in seconds.
#
# Run as root on Debian 12. Environment: WARD_DEPS_JOBS (default 2), WARD_DEPS_KEEP_BUILD=1 keeps
# build trees. Exit status is non-zero when anything fails.
# The recipes are called by name (recipe_$c) with SRC and STAGE set by the caller.
# shellcheck disable=SC2317,SC2153,SC2086
set -euo pipefail

CACHE=${WARD_WINDOWS_CACHE:-/var/cache/ward/windows}
PREFIX=$CACHE/prefix
ARTEFACTS=$CACHE/artefacts
SOURCES=$CACHE/sources
BUILD=$CACHE/build
JOBS=${WARD_DEPS_JOBS:-2}
TRIPLE=x86_64-w64-mingw32
MINGW_PACKAGES=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
  mingw-w64-x86-64-dev)
HOST_QT_CMAKE=/usr/lib/x86_64-linux-gnu/cmake

# Build order: every component comes after the ones it builds against (see deps_of).
COMPONENTS=(qtbase openssl sqlcipher protobuf libusb googletest mingw-runtime)

log() { printf 'windows-deps: %s\n' "$*"; }
die() {
  printf 'windows-deps: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------------------------
APT_PACKAGES=(
  "${MINGW_PACKAGES[@]}" mingw-w64-tools
  wine wine64 msitools wixl xvfb
  dpkg-dev build-essential cmake ninja-build pkg-config perl python3 zstd xz-utils
  ca-certificates
  # The host Qt 6.4.2 tools (moc, rcc, uic, ...) that a Qt cross build and its users need.
  qt6-base-dev qt6-base-dev-tools qt6-tools-dev-tools
  # The host's protoc generates the code the Windows build compiles.
  protobuf-compiler libprotobuf-dev
  googletest
)

missing_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

DEBSRC_LIST=/etc/apt/sources.list.d/ward-deb-src.sources
DEBSRC_ONELINE=/etc/apt/sources.list.d/ward-deb-src.list

# deb-src entries for bookworm and bookworm-backports, copied from this machine's own Debian entry
# (as setup-debian.sh derives backports), so no host is named here. Only these two suites: every
# machine then resolves the same source versions, and bookworm's point releases carry the
# security fixes of their time.
write_deb_src() {
  rm -f "$DEBSRC_LIST" "$DEBSRC_ONELINE"
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    # deb822: the first stanza whose Suites list plain "bookworm", once per suite.
    awk -v RS= '
      /(^|\n)Suites:[^\n]*(^|[ \t])bookworm([ \t]|\n|$)/ && !done {
        n = split($0, lines, "\n"); rest = ""
        for (i = 1; i <= n; i++) {
          if (lines[i] ~ /^#/ || lines[i] == "" || lines[i] ~ /^(Types|Suites):/) continue
          rest = rest lines[i] "\n"
        }
        printf "Types: deb-src\nSuites: bookworm\n%s\n", rest
        printf "Types: deb-src\nSuites: bookworm-backports\n%s", rest
        done = 1
      }' /etc/apt/sources.list.d/debian.sources >"$DEBSRC_LIST"
    [[ -s $DEBSRC_LIST ]] || rm -f "$DEBSRC_LIST"
  elif [[ -f /etc/apt/sources.list ]]; then
    # one-line format: reuse the first "deb URI bookworm main..." line.
    local line
    line=$(grep -E '^deb\s+\S+\s+bookworm\s' /etc/apt/sources.list | head -n1 || true)
    if [[ -n $line ]]; then
      {
        sed -E 's/^deb(\s)/deb-src\1/' <<<"$line"
        sed -E 's/^deb(\s+\S+\s+)bookworm(\s)/deb-src\1bookworm-backports\2/' <<<"$line"
      } >"$DEBSRC_ONELINE"
    fi
  fi
  [[ -f $DEBSRC_LIST || -f $DEBSRC_ONELINE ]] ||
    die "could not find this machine's Debian 'bookworm' source to derive deb-src entries from"
  log "added deb-src entries in $(ls "$DEBSRC_LIST" "$DEBSRC_ONELINE" 2>/dev/null)"
}

setup_host() {
  [[ $(id -u) -eq 0 ]] || die "please run as root (it installs Debian packages into the system)"
  local need_update=0 missing
  if [[ ! -f $DEBSRC_LIST && ! -f $DEBSRC_ONELINE ]]; then
    write_deb_src
    need_update=1
  fi
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} > 0)); then
    need_update=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ((need_update)); then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=900 update -qq
  fi
  if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ---------------------------------------------------------------------------------------------
# Source packages: the newest version of the wanted upstream release, downloaded once.
# ---------------------------------------------------------------------------------------------
source_package_of() {
  case $1 in
    openssl) echo "openssl 3.0.*" ;;
    protobuf) echo "protobuf 3.21.12*" ;;
    sqlcipher) echo "sqlcipher 4.6.1*" ;;
    libusb) echo "libusb-1.0 2:1.0.26*" ;;
    qtbase) echo "qt6-base 6.4.2*" ;;
    googletest | mingw-runtime) echo "" ;; # from installed packages, not a source package
  esac
}

# Prints the highest source version of package $1 matching the glob $2, or nothing.
best_source_version() {
  local pkg=$1 glob=$2 best="" v
  while read -r v; do
    # shellcheck disable=SC2053 # $glob is a pattern on purpose
    [[ $v == $glob ]] || continue
    if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done < <(apt-cache showsrc "$pkg" 2>/dev/null | sed -n 's/^Version: //p')
  echo "$best"
}

declare -A VERSION
resolve_versions() {
  local c spec pkg glob v
  for c in "${COMPONENTS[@]}"; do
    spec=$(source_package_of "$c")
    if [[ $c == googletest ]]; then
      VERSION[$c]="googletest $(dpkg-query -W -f='${Version}' googletest)"
      continue
    fi
    if [[ $c == mingw-runtime ]]; then
      VERSION[$c]="g++-mingw-w64-x86-64-posix $(dpkg-query -W -f='${Version}' g++-mingw-w64-x86-64-posix)"
      continue
    fi
    read -r pkg glob <<<"$spec"
    v=$(best_source_version "$pkg" "$glob")
    if [[ -z $v ]]; then
      # The source lists may be missing or old (a fresh machine, or lists cleaned): refresh once.
      log "apt-get update (no source of $pkg $glob known yet)"
      apt-get -o DPkg::Lock::Timeout=900 update -qq
      v=$(best_source_version "$pkg" "$glob")
    fi
    [[ -n $v ]] || die "no Debian source package $pkg matching $glob (is the deb-src entry in place?)"
    VERSION[$c]="$pkg $v"
  done
}

# A backport's own source files may be missing from the mirror (bookworm-backports' sqlcipher
# .dsc and .debian.tar.xz are not served here, its binaries are). A backport is the source of the
# version it was backported from, plus a changelog entry: that version is fetched instead, with
# apt and a private deb-src list for trixie (the suite bookworm-backports takes from), so the
# machine's own apt configuration is left alone.
APT_PRIVATE=$CACHE/apt
apt_private() {
  apt-get -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$APT_PRIVATE/sources" \
    -o Dir::State::Lists="$APT_PRIVATE/lists" -o Dir::Cache="$APT_PRIVATE/cache" \
    -o APT::Sandbox::User=root "$@"
}
download_backported_from() {
  local pkg=$1 ver=$2 dir=$3 stanza
  mkdir -p "$APT_PRIVATE/sources" "$APT_PRIVATE/lists/partial" "$APT_PRIVATE/cache/archives/partial"
  stanza=$(awk -v RS= '/Suites: bookworm\n/ {print; exit}' "$DEBSRC_LIST" 2>/dev/null || true)
  [[ -n $stanza ]] || return 1
  echo "${stanza/Suites: bookworm/Suites: trixie}" >"$APT_PRIVATE/sources/trixie.sources"
  apt_private update -qq >/dev/null 2>&1 || return 1
  (cd "$dir" && apt_private source -qq --only-source --download-only "$pkg=$ver" >/dev/null) || return 1
  echo "$pkg $ver (trixie: the source bookworm-backports built its backport from)" >"$dir/origin"
}

# Unpacks the source package of component $1 into directory $2 (with Debian's patches applied).
unpack_source() {
  local pkg ver dir
  read -r pkg ver <<<"${VERSION[$1]}"
  dir=$SOURCES/${pkg}_${ver#*:}
  if [[ ! -f $dir/.complete ]]; then
    log "$1: downloading source package $pkg $ver"
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! (cd "$dir" && apt-get source -qq --only-source -o APT::Sandbox::User=root --download-only \
      "$pkg=$ver" >/dev/null 2>"$dir/apt.log"); then
      rm -f "$dir"/*.dsc
      if [[ $ver == *~bpo* ]] && download_backported_from "$pkg" "${ver%~bpo*}" "$dir"; then
        log "$1: $pkg $ver's own source files are not served; using $(<"$dir/origin")"
      else
        cat "$dir/apt.log" >&2
        die "$1: could not download the source package $pkg $ver"
      fi
    fi
    echo "$pkg $ver" >"$dir/.complete"
  fi
  rm -rf "$2"
  dpkg-source --no-check -q -x "$(ls "$dir"/*.dsc)" "$2" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Recipes. Each runs in its build directory with SRC (unpacked source), STAGE (DESTDIR) and the
# prefix holding exactly the components it depends on. Their text is part of the cache key.
# ---------------------------------------------------------------------------------------------
deps_of() {
  case $1 in
    sqlcipher) echo openssl ;;
    *) echo "" ;;
  esac
}

# The CMake toolchain the dependencies are built with (the project has its own, which also sets
# the Wine emulator and looks in this prefix).
write_toolchain() {
  cat >"$1" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $TRIPLE-gcc-posix)
set(CMAKE_CXX_COMPILER $TRIPLE-g++-posix)
set(CMAKE_RC_COMPILER $TRIPLE-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$TRIPLE $PREFIX)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
}

recipe_openssl() {
  # no-autoload-config: a service must not read an openssl.cnf (which can load engines) by
  # default. The built-in directories are set at make time: Configure would put a Windows path
  # under the (Linux) prefix, and the prefix's path would mean C:\var\cache\... on Windows, a
  # folder any user may create. "C:/Program Files" is for administrators only.
  local dirs=(OPENSSLDIR="C:/Program Files/Ward/ssl"
    ENGINESDIR="C:/Program Files/Ward/ssl/engines-3"
    MODULESDIR="C:/Program Files/Ward/ssl/ossl-modules")
  "$SRC/Configure" mingw64 --cross-compile-prefix=$TRIPLE- CC=gcc-posix \
    no-shared no-tests no-autoload-config \
    --prefix="$PREFIX" --libdir=lib --openssldir=/unused >configure.log
  nice make -j"$JOBS" "${dirs[@]}" build_libs >build.log 2>&1
  nice make "${dirs[@]}" install_dev DESTDIR="$STAGE" >install.log 2>&1
}

recipe_protobuf() {
  write_toolchain toolchain.cmake
  cmake -S "$SRC" -B . -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/toolchain.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -Dprotobuf_BUILD_TESTS=OFF -Dprotobuf_BUILD_PROTOC_BINARIES=OFF \
    -Dprotobuf_BUILD_SHARED_LIBS=OFF -Dprotobuf_WITH_ZLIB=OFF >configure.log
  nice cmake --build . -j "$JOBS" >build.log
  DESTDIR="$STAGE" cmake --install . >install.log
}

recipe_sqlcipher() {
  # Debian's debian/rules flags (the same SQL features as the Linux store), without loadable
  # extensions. config_TARGET_EXEEXT=.exe: without it configure builds the Unix VFS
  # (SQLITE_OS_UNIX=1) for Windows without a word. BEXE= : the build-time tools (lemon,
  # mkkeywordhash) run on Linux.
  local cflags="-O2 -fno-strict-aliasing -DSQLITE_HAS_CODEC -DSQLITE_SECURE_DELETE
    -DSQLITE_ENABLE_COLUMN_METADATA -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_RTREE=1
    -DSQLITE_SOUNDEX=1 -DSQLITE_ENABLE_UNLOCK_NOTIFY -DSQLITE_OMIT_LOOKASIDE=1
    -DSQLITE_ENABLE_UPDATE_DELETE_LIMIT=1 -DSQLITE_MAX_SCHEMA_RETRY=25"
  # shellcheck disable=SC2116 # the echo joins the flags into one line
  "$SRC/configure" --host=$TRIPLE --prefix="$PREFIX" --disable-shared --enable-static \
    --disable-tcl --disable-readline --disable-load-extension --enable-threadsafe \
    --enable-tempstore=yes --enable-fts4 --enable-fts5 --enable-json config_TARGET_EXEEXT=.exe \
    CC=$TRIPLE-gcc-posix CFLAGS="$(echo $cflags) -I$PREFIX/include" LDFLAGS="-L$PREFIX/lib" \
    LIBS="-lcrypto -lws2_32 -lcrypt32 -ladvapi32 -luser32 -lbcrypt" >configure.log
  nice make -j"$JOBS" BEXE= libsqlcipher.la sqlite3.h sqlcipher.pc >build.log 2>&1
  # The library, its headers and its .pc (`make install` would also build the shell).
  nice make BEXE= lib_install DESTDIR="$STAGE" >install.log 2>&1
  install -d "$STAGE$PREFIX/include/sqlcipher" "$STAGE$PREFIX/lib/pkgconfig"
  install -m 0644 sqlite3.h "$SRC/src/sqlite3ext.h" "$STAGE$PREFIX/include/sqlcipher/"
  install -m 0644 sqlcipher.pc "$STAGE$PREFIX/lib/pkgconfig/"
}

recipe_libusb() {
  "$SRC/configure" --host=$TRIPLE --prefix="$PREFIX" --disable-shared --enable-static \
    CC=$TRIPLE-gcc-posix CXX=$TRIPLE-g++-posix >configure.log
  nice make -j"$JOBS" >build.log 2>&1
  nice make install DESTDIR="$STAGE" >install.log 2>&1
}

recipe_googletest() {
  write_toolchain toolchain.cmake
  cmake -S /usr/src/googletest -B . -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/toolchain.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON -DBUILD_SHARED_LIBS=OFF >configure.log
  nice cmake --build . -j "$JOBS" >build.log
  DESTDIR="$STAGE" cmake --install . >install.log
}

recipe_mingw-runtime() {
  # The MinGW runtime DLLs that Qt's DLLs need (Ward's own programs link the runtime statically),
  # so that prefix/bin is all a Qt program needs on its path, under Wine or beside an installer.
  local dll
  mkdir -p "$STAGE$PREFIX/bin"
  for dll in libstdc++-6.dll libgcc_s_seh-1.dll libwinpthread-1.dll; do
    cp "$($TRIPLE-g++-posix -print-file-name="$dll")" "$STAGE$PREFIX/bin/"
  done
}

recipe_qtbase() {
  # Debian's dfsg tarball has no src/3rdparty/wintab: -no-feature-tabletevent is required.
  # direct2d stays on: without it qwindows.dll does not link (QWindowsDirectWriteFontDatabase).
  write_toolchain toolchain.cmake
  "$SRC/configure" -prefix "$PREFIX" -release -xplatform win32-g++ -qt-host-path /usr \
    -nomake examples -nomake tests -no-opengl -no-dbus -no-icu -no-zstd \
    -schannel -no-openssl -no-feature-tabletevent \
    -no-feature-sql -no-feature-printsupport -no-feature-concurrent -no-feature-xml \
    -qt-zlib -qt-libpng -qt-libjpeg -qt-pcre -qt-harfbuzz -qt-freetype \
    -- -G Ninja -DCMAKE_TOOLCHAIN_FILE="$PWD/toolchain.cmake" \
    -DQT_HOST_PATH_CMAKE_DIR="$HOST_QT_CMAKE" >configure.log 2>&1
  nice cmake --build . -j "$JOBS" >build.log 2>&1
  DESTDIR="$STAGE" cmake --install . >install.log 2>&1
}

# ---------------------------------------------------------------------------------------------
# Cache keys, artefacts and the prefix
# ---------------------------------------------------------------------------------------------
TOOLCHAIN_ID=""
toolchain_id() {
  local p
  for p in "${MINGW_PACKAGES[@]}"; do
    printf '%s=%s ' "$p" "$(dpkg-query -W -f='${Version}' "$p")"
  done
}

declare -A KEY
compute_key() {
  local c=$1 d deps_keys=""
  for d in $(deps_of "$c"); do deps_keys+="$d:${KEY[$d]} "; done
  local text
  text=$(
    echo "source ${VERSION[$c]}"
    echo "toolchain $TOOLCHAIN_ID"
    echo "prefix $PREFIX"
    echo "deps $deps_keys"
    declare -f "recipe_$c"
    case $c in protobuf | googletest | qtbase) declare -f write_toolchain ;; esac
  )
  KEY[$c]=$(sha256sum <<<"$text" | cut -c1-16)
}

artefact_of() { echo "$ARTEFACTS/$1-${KEY[$1]}.tar.zst"; }

# Empties the prefix and unpacks the given components' artefacts into it.
assemble_prefix() {
  local c
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  for c in "$@"; do
    zstd -q -d -c "$(artefact_of "$c")" | tar -x -C "$PREFIX"
  done
}

build_component() {
  local c=$1 start=$SECONDS dir stage
  dir=$BUILD/$c
  stage=$BUILD/$c-stage
  log "$c: building ${VERSION[$c]} (key ${KEY[$c]})"
  # shellcheck disable=SC2046 # deps_of prints a word list
  assemble_prefix $(deps_of "$c")
  rm -rf "$stage"
  mkdir -p "$stage"
  if [[ -f $dir/.key && $(<"$dir/.key") == "${KEY[$c]}" ]]; then
    # An interrupted build of the same key (Qt takes most of an hour): go on where it stopped.
    log "$c: resuming the interrupted build in $dir"
  else
    rm -rf "$dir"
    mkdir -p "$dir/build"
    if [[ -n $(source_package_of "$c") ]]; then
      unpack_source "$c" "$dir/src"
    fi
    echo "${KEY[$c]}" >"$dir/.key"
  fi
  if ! (
    cd "$dir/build"
    SRC=$dir/src STAGE=$stage "recipe_$c"
  ); then
    log "$c: FAILED; logs in $dir/build (configure.log, build.log, install.log):"
    tail -n 30 "$dir"/build/*.log >&2 || true
    exit 1
  fi
  [[ -d $stage$PREFIX ]] || die "$c: nothing was installed under $stage$PREFIX"
  mkdir -p "$ARTEFACTS"
  rm -f "$ARTEFACTS/$c"-*.tar.zst
  tar -C "$stage$PREFIX" -c . | zstd -q -T0 -10 -o "$(artefact_of "$c").tmp"
  mv "$(artefact_of "$c").tmp" "$(artefact_of "$c")"
  [[ ${WARD_DEPS_KEEP_BUILD:-0} == 1 ]] || rm -rf "$dir" "$stage"
  log "$c: built in $((SECONDS - start)) s"
  TIMES+=("$(printf '%-13s built in %5d s (%s, key %s)' "$c" $((SECONDS - start)) "${VERSION[$c]}" "${KEY[$c]}")")
}

main() {
  local total=$SECONDS c manifest wanted
  setup_host
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    log "another build of the Windows dependencies is running; waiting for it"
    flock 9
  fi
  TOOLCHAIN_ID=$(toolchain_id)
  resolve_versions
  for c in "${COMPONENTS[@]}"; do compute_key "$c"; done

  wanted=$(for c in "${COMPONENTS[@]}"; do echo "$c ${KEY[$c]} ${VERSION[$c]}"; done)
  manifest=$PREFIX/.ward-manifest
  if [[ -f $manifest && $(<"$manifest") == "$wanted" ]]; then
    for c in "${COMPONENTS[@]}"; do
      log "$(printf '%-13s cached (%s, key %s)' "$c" "${VERSION[$c]}" "${KEY[$c]}")"
    done
    log "prefix $PREFIX is up to date ($((SECONDS - total)) s)"
    return 0
  fi

  TIMES=()
  for c in "${COMPONENTS[@]}"; do
    if [[ -f $(artefact_of "$c") ]]; then
      TIMES+=("$(printf '%-13s cached (%s, key %s)' "$c" "${VERSION[$c]}" "${KEY[$c]}")")
    else
      build_component "$c"
    fi
  done
  local start=$SECONDS
  assemble_prefix "${COMPONENTS[@]}"
  echo "$wanted" >"$manifest"
  TIMES+=("$(printf '%-13s assembled in %d s' prefix $((SECONDS - start)))")
  # Artefacts of keys no longer wanted are kept only until the next build of that component.
  printf 'windows-deps: %s\n' "${TIMES[@]}"
  log "prefix $PREFIX ready ($((SECONDS - total)) s, $(du -sh "$PREFIX" | cut -f1))"
}

main "$@"
exit $?
