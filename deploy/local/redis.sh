#!/usr/bin/env bash
# Usage: deploy/local/redis.sh start|stop|status|address
#
# A real redis-server (Debian's package) on a free loopback port, no
# persistence (CS_REDIS_PERSIST=1 turns on the append-only file), its files in
# $CS_LOCAL_DIR/redis. `start` prints HOST:PORT once it answers PING.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RDIR=$CS_LOCAL_DIR/redis

redis_start() {
	if cs_pid_alive "$RDIR/redis.pid"; then
		cat "$RDIR/address"
		return 0
	fi
	command -v redis-server >/dev/null || cs_die "redis-server is needed: run deploy/install-deps.sh"
	rm -rf "$RDIR"
	mkdir -p "$RDIR"
	local port persist=no i
	port=$(cs_free_port)
	[ "${CS_REDIS_PERSIST:-0}" = 1 ] && persist=yes
	redis-server --bind 127.0.0.1 --port "$port" --dir "$RDIR" --save '' \
		--appendonly "$persist" --daemonize yes --pidfile "$RDIR/redis.pid" \
		--logfile "$RDIR/redis.log" --protected-mode yes >/dev/null
	echo "127.0.0.1:$port" > "$RDIR/address"
	for i in $(seq 1 100); do
		if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
			cs_log "Redis ready at 127.0.0.1:$port"
			echo "127.0.0.1:$port"
			return 0
		fi
		sleep 0.1
	done
	cs_die "redis-server did not answer PING (log: $RDIR/redis.log)"
}

redis_stop() {
	if [ -f "$RDIR/redis.pid" ]; then
		cs_pid_stop "$RDIR/redis.pid" 10
		cs_log "Redis stopped"
	fi
}

case "${1:-}" in
start) redis_start ;;
stop) redis_stop ;;
status) if cs_pid_alive "$RDIR/redis.pid"; then echo "running $(cat "$RDIR/address")"; else echo stopped; exit 1; fi ;;
address) cat "$RDIR/address" ;;
*) echo "usage: $0 start|stop|status|address" >&2; exit 2 ;;
esac
