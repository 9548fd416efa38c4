#!/usr/bin/env bash
# Usage: deploy/local/services.sh start|stop
#
# Starts (or stops) the local Kafka broker and redis-server, and writes their
# addresses to $CS_LOCAL_DIR/env as CS_KAFKA_BOOTSTRAP and CS_REDIS_ADDR (and
# CS_REDIS_PIDFILE, for the fault tests), which the tests and the quickstart
# read (`. $CS_LOCAL_DIR/env`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

case "${1:-}" in
start)
	mkdir -p "$CS_LOCAL_DIR"
	redis=$("$here/redis.sh" start)
	kafka=$("$here/kafka.sh" start)
	printf 'export CS_KAFKA_BOOTSTRAP=%s\nexport CS_REDIS_ADDR=%s\nexport CS_REDIS_PIDFILE=%s\n' \
		"$kafka" "$redis" "$CS_LOCAL_DIR/redis/redis.pid" > "$CS_LOCAL_DIR/env"
	cat "$CS_LOCAL_DIR/kafka/sasl.env" >> "$CS_LOCAL_DIR/env"
	cat "$CS_LOCAL_DIR/env"
	;;
stop)
	"$here/kafka.sh" stop
	"$here/redis.sh" stop
	rm -f "$CS_LOCAL_DIR/env"
	;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
