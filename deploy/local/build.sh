#!/usr/bin/env bash
# Usage: deploy/local/build.sh [release|asan]
# Configures and builds one flavour into build/ (release) or build-asan/
# (ASan + UBSan, Debug). With CI=true, warnings are errors.
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
*) cs_die "usage: $0 [release|asan]" ;;
esac
cmake -S "$CS_ROOT" -B "$dir" "${gen[@]}" "${opts[@]}" -DCS_WERROR=$werror >/dev/null
cmake --build "$dir" -j "$(nproc)"
