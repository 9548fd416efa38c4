#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
# install dependencies, build three times (release; ASan+UBSan; TSan), start a
# real Kafka broker and redis-server on free loopback ports, run every CTest
# test (labels unit and services) on the first two builds and the threaded unit
# tests (label tsan) on the third, build and install the Debian package and check
# the deployment files (deploy/local/package.sh), stop the services.
# Exit status: non-zero if anything failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$CS_ROOT"

"$CS_ROOT/deploy/install-deps.sh" || cs_die "installing dependencies failed"
"$CS_ROOT/deploy/local/build.sh" release || cs_die "release build failed"
eval "export $("$CS_ROOT/deploy/local/pytools.sh")" || cs_die "the test-only Python tools failed to install"
"$CS_ROOT/deploy/local/build.sh" asan || cs_die "ASan+UBSan build failed"
"$CS_ROOT/deploy/local/build.sh" tsan || cs_die "TSan build failed"

trap '"$CS_ROOT/deploy/local/services.sh" stop >/dev/null 2>&1 || true' EXIT
"$CS_ROOT/deploy/local/services.sh" start >/dev/null || cs_die "starting Kafka and Redis failed"
. "$CS_LOCAL_DIR/env"
export CS_KAFKA_BOOTSTRAP CS_REDIS_ADDR CS_REDIS_PIDFILE
export CS_REQUIRE_SERVICES=1   # a service test may not skip here
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for dir in build build-asan; do
	cs_log "ctest in $dir"
	(cd "$dir" && ctest --output-on-failure --timeout 600) || status=1
done
cs_log "the Debian package (built, installed, run), the systemd units and the Kubernetes manifests"
"$CS_ROOT/deploy/local/package.sh" || status=1
cs_log "ctest -L tsan in build-tsan"
(cd build-tsan && TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
	ctest --output-on-failure --timeout 600 -L tsan) || status=1
exit $status
