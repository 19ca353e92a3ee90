#!/usr/bin/env bash
# Installs a built tether into a temporary prefix and uses it from outside:
#   run.sh BUILD_DIR PROJECT_DIR CMAKE
#  1. `cmake --install BUILD_DIR --prefix P`; the expected files are there;
#  2. PROJECT_DIR (find_package(tether CONFIG)) builds against P with CMake,
#     once static (tether::runtime) and once shared (tether::runtime_shared);
#  3. the same main.cpp builds with pkg-config, shared and static;
#  4. each program runs (exit 0, "sum 6 on one thread"), the static ones do
#     not load libtether.so, and the installed `tether run` runs one of them.
set -euo pipefail
BUILD="${1:?usage: run.sh BUILD_DIR PROJECT_DIR CMAKE}"
PROJECT="${2:?}"
CMAKE="${3:-cmake}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tether-install.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
P="$TMP/prefix"
CXX="${CXX:-c++}"

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

step "cmake --install $BUILD --prefix $P"
"$CMAKE" --install "$BUILD" --prefix "$P" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "cmake --install failed"; }

libdir=""
for d in lib lib64 lib/x86_64-linux-gnu; do
  [[ -e "$P/$d/libtether.a" ]] && libdir="$P/$d" && break
done
[[ -n "$libdir" ]] || fail "no libtether.a under $P"
for f in bin/tether include/tether/tether.h include/tether/thread_locker.h \
         share/man/man1/tether.1; do
  [[ -e "$P/$f" ]] || fail "$P/$f was not installed"
done
for f in libtether.so libtether.so.0 cmake/tether/tetherConfig.cmake \
         cmake/tether/tetherConfigVersion.cmake pkgconfig/tether.pc; do
  [[ -e "$libdir/$f" ]] || fail "$libdir/$f was not installed"
done
if grep -q 'tether_preload' "$BUILD/build.ninja" 2>/dev/null; then
  [[ -e "$libdir/libtether_preload.so" ]] || fail "libtether_preload.so is built but not installed"
fi
# Nothing installed may point back into the build or source tree.
if grep -rl "$BUILD" "$libdir/cmake" "$libdir/pkgconfig" 2>/dev/null; then
  fail "installed package files mention the build tree $BUILD"
fi

check_app() {  # check_app PROGRAM static|shared
  local out
  out="$("$1")" || fail "$1 exited with status $?: $out"
  [[ "$out" == "sum 6 on one thread" ]] || fail "$1 printed '$out'"
  # ldd's output in a variable: `ldd | grep -q` fails under pipefail when grep
  # exits at its first match and ldd then dies of SIGPIPE.
  local libs
  libs="$(ldd "$1")" || fail "ldd $1 failed"
  if [[ "$2" == static ]]; then
    ! grep -q 'libtether\.so' <<<"$libs" || fail "$1 (static) loads libtether.so"
  else
    grep -q "libtether\.so\.0 => $libdir" <<<"$libs" || fail "$1 does not load $libdir/libtether.so.0"
  fi
  echo "ok: $1 ($2)"
}

step "CMake: find_package(tether CONFIG)"
"$CMAKE" -S "$PROJECT" -B "$TMP/cmake-build" -DCMAKE_PREFIX_PATH="$P" \
  -DCMAKE_BUILD_TYPE=Release >"$TMP/configure.log" 2>&1 ||
  { cat "$TMP/configure.log" >&2; fail "configuring the outside project failed"; }
"$CMAKE" --build "$TMP/cmake-build" >"$TMP/build.log" 2>&1 ||
  { cat "$TMP/build.log" >&2; fail "building the outside project failed"; }
check_app "$TMP/cmake-build/app_static" static
check_app "$TMP/cmake-build/app_shared" shared

step "pkg-config tether"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[[ "$(pkg-config --modversion tether)" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "pkg-config --modversion"
# shellcheck disable=SC2046
"$CXX" -std=c++20 -O1 "$PROJECT/main.cpp" -o "$TMP/pc_shared" $(pkg-config --cflags --libs tether) \
  -Wl,-rpath,"$libdir" || fail "building with pkg-config (shared) failed"
check_app "$TMP/pc_shared" shared
static_libs="$(pkg-config --static --libs tether)"
static_libs="${static_libs/-ltether /-l:libtether.a }"
# shellcheck disable=SC2046,SC2086
"$CXX" -std=c++20 -O1 "$PROJECT/main.cpp" -o "$TMP/pc_static" $(pkg-config --cflags tether) \
  $static_libs || fail "building with pkg-config --static failed"
check_app "$TMP/pc_static" static

step "the installed tether run"
out="$("$P/bin/tether" run -- "$TMP/pc_static")" || fail "installed tether run: status $?"
[[ "$out" == "sum 6 on one thread" ]] || fail "installed tether run printed '$out'"
echo "PASS: installed into a temporary prefix; CMake and pkg-config projects build, link and run"
