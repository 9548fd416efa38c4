# shellcheck shell=bash
# Shared helpers of deploy/local/*.sh: the scratch folder, free ports, logging.
# Sourced, not run.

CS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Scratch state (broker data, pid files, logs, the env file) lives outside git.
CS_LOCAL_DIR=${CS_LOCAL_DIR:-/tmp/cshield-local-$(id -u)}
# Downloaded broker jars are cached across runs.
CS_CACHE_DIR=${CS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cshield}
CS_KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$CS_ROOT/deploy/kafka/pom.xml")

cs_log() { printf '[cshield-local] %s\n' "$*" >&2; }
cs_die() { printf '[cshield-local] error: %s\n' "$*" >&2; exit 1; }

# A TCP port on 127.0.0.1 that nothing listens on (checked by connecting).
cs_free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	cs_die "no free port found on 127.0.0.1"
}

# Is the process in pid file $1 alive?
cs_pid_alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Stops the process in pid file $1: SIGTERM, wait up to $2 s, then SIGKILL.
cs_pid_stop() {
	local pidf=$1 wait_s=${2:-30} pid i
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 $((wait_s * 10))); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			cs_log "pid $pid did not stop in ${wait_s}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
	fi
	rm -f "$pidf"
}
