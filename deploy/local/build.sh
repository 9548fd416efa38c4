#!/usr/bin/env bash
# Usage: deploy/local/build.sh [release|asan|tsan]
# Configures and builds one flavour into build/ (release), build-asan/
# (ASan + UBSan, Debug) or build-tsan/ (ThreadSanitizer, for the threaded
# unit tests). With CI=true, warnings are errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
flavour=${1:-release}
werror=OFF
[ "${CI:-}" = true ] && werror=ON
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
case "$flavour" in
release) dir=$CS_ROOT/build;      opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
asan)    dir=$CS_ROOT/build-asan; opts=(-DCMAKE_BUILD_TYPE=Debug -DCS_ASAN=ON -DCS_UBSAN=ON) ;;
tsan)    dir=$CS_ROOT/build-tsan; opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCS_TSAN=ON) ;;
*) cs_die "usage: $0 [release|asan|tsan]" ;;
esac
cmake -S "$CS_ROOT" -B "$dir" "${gen[@]}" "${opts[@]}" -DCS_WERROR=$werror >/dev/null
cmake --build "$dir" -j "$(nproc)"
