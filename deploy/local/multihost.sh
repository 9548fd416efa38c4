#!/usr/bin/env bash
# Usage: deploy/local/multihost.sh up DIR | down DIR | cut NAME | mend NAME | kill NAME
#
# Several "hosts" on one machine, for the multi-host test (0125): network namespaces joined by
# a bridge (cs-mh-br, 10.77.0.1/24 on this side), each with its own address:
#   cs-mh-k1..k3  10.77.0.11-13  a Kafka broker each (KRaft, broker and controller, one cluster:
#                               replication 3, min.insync.replicas 2), and a Redis Sentinel each
#   cs-mh-r1, r2  10.77.0.21-22  Redis primary and its replica
#   cs-mh-i1, i2  10.77.0.31-32  two cshield-ingest hosts (the test starts them)
# Traffic stays on these addresses. `up` starts everything and writes DIR/env (the addresses);
# `down` stops everything and removes the namespaces and the bridge; `cut`/`mend` take a host's
# link down and up; `kill` SIGKILLs a host's service (k1..k3: the broker; r1, r2: redis-server).
# Needs root (ip netns).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BR=cs-mh-br
NET=10.77.0
declare -A IP=([k1]=11 [k2]=12 [k3]=13 [r1]=21 [r2]=22 [i1]=31 [i2]=32)
LIBS=$CS_CACHE_DIR/kafka-$CS_KAFKA_VERSION/libs

ns_up() {
	local h=$1 ns=cs-mh-$1 v=csmh-$1
	ip netns add "$ns"
	ip link add "$v" type veth peer name eth0 netns "$ns"
	ip link set "$v" master "$BR" up
	ip netns exec "$ns" ip addr add "$NET.${IP[$h]}/24" dev eth0
	ip netns exec "$ns" ip link set eth0 up
	ip netns exec "$ns" ip link set lo up
}

# (processes are started with `ip netns exec ... &` directly, not through a function: $! is then
# the process itself, which the pid files hold and `kill` kills)
mh_up() {
	local dir=$1 h cid voters=""
	[ "$(id -u)" = 0 ] || cs_die "multihost: needs root (ip netns)"
	mkdir -p "$dir"
	mh_down "$dir" >/dev/null 2>&1 || true
	ip link add "$BR" type bridge
	ip addr add "$NET.1/24" dev "$BR"
	ip link set "$BR" up
	for h in k1 k2 k3 r1 r2 i1 i2; do ns_up "$h"; done
	"$CS_ROOT/deploy/local/kafka.sh" fetch >/dev/null
	for n in 1 2 3; do voters="$voters${voters:+,}$n@$NET.1$n:9093"; done
	cid=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null)
	for n in 1 2 3; do
		mkdir -p "$dir/k$n/data" "$dir/k$n/logs"
		cat > "$dir/k$n/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://$NET.1$n:9092,CONTROLLER://$NET.1$n:9093
advertised.listeners=PLAINTEXT://$NET.1$n:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/k$n/data
num.partitions=1
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
		java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cid" -c "$dir/k$n/server.properties" \
			>>"$dir/k$n/logs/tool.log" 2>&1 || cs_die "kafka format k$n failed ($dir/k$n/logs/tool.log)"
		ip netns exec "cs-mh-k$n" nohup java -Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
			-Dkafka.logs.dir="$dir/k$n/logs" -Dlog4j2.configurationFile="$CS_ROOT/deploy/kafka/log4j2.properties" \
			-cp "$LIBS/*" kafka.Kafka "$dir/k$n/server.properties" >"$dir/k$n/logs/stdout.log" 2>&1 </dev/null &
		echo $! > "$dir/k$n.pid"
	done
	# Redis: the primary, its replica, a Sentinel beside each broker (quorum 2)
	for h in r1 r2; do
		mkdir -p "$dir/$h"
		{
			echo "bind $NET.${IP[$h]}"; echo "port 6379"; echo "dir $dir/$h"; echo "save \"\""
			echo "appendonly yes"; echo "appendfsync everysec"; echo "protected-mode no"
			echo "daemonize no"; echo "logfile $dir/$h/redis.log"
			[ "$h" = r2 ] && echo "replicaof $NET.${IP[r1]} 6379"
		} > "$dir/$h/redis.conf"
		ip netns exec "cs-mh-$h" nohup redis-server "$dir/$h/redis.conf" >/dev/null 2>&1 </dev/null &
		echo $! > "$dir/$h.pid"
	done
	for n in 1 2 3; do
		mkdir -p "$dir/s$n"
		printf 'bind %s\nport 26379\ndir %s\nprotected-mode no\nlogfile %s/sentinel.log\nsentinel monitor cshield %s 6379 2\nsentinel down-after-milliseconds cshield 2000\nsentinel failover-timeout cshield 10000\n' \
			"$NET.1$n" "$dir/s$n" "$dir/s$n" "$NET.${IP[r1]}" > "$dir/s$n/sentinel.conf"
		ip netns exec "cs-mh-k$n" nohup redis-server "$dir/s$n/sentinel.conf" --sentinel >/dev/null 2>&1 </dev/null &
		echo $! > "$dir/s$n.pid"
	done
	# ready: every broker answers with three brokers, the replica is in sync
	local i ok
	for i in $(seq 1 240); do
		ok=1
		for n in 1 2 3; do
			kcat -b "$NET.1$n:9092" -L -m 2 2>/dev/null | grep -q " 3 brokers:" || ok=0
		done
		[ "$ok" = 1 ] && break
		sleep 0.5
	done
	[ "$ok" = 1 ] || cs_die "the 3-broker cluster did not form ($dir/k*/logs)"
	for i in $(seq 1 120); do
		redis-cli -h "$NET.${IP[r2]}" INFO replication 2>/dev/null | grep -q "master_link_status:up" && break
		sleep 0.5
	done
	cat > "$dir/env" <<ENV
export CS_MH_KAFKA=$NET.11:9092,$NET.12:9092,$NET.13:9092
export CS_MH_REDIS_PRIMARY=$NET.${IP[r1]}:6379
export CS_MH_REDIS_REPLICA=$NET.${IP[r2]}:6379
export CS_MH_SENTINELS=$NET.11:26379,$NET.12:26379,$NET.13:26379
export CS_MH_MASTER=cshield
ENV
	cs_log "multihost: 3 brokers, Redis primary + replica, 3 Sentinels up ($dir/env)"
}

mh_down() {
	local dir=$1 f
	for f in "$dir"/*.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
	done
	for h in k1 k2 k3 r1 r2 i1 i2; do
		ip netns pids "cs-mh-$h" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "cs-mh-$h" 2>/dev/null || true
		ip link del "csmh-$h" 2>/dev/null || true
	done
	ip link del "$BR" 2>/dev/null || true
	cs_log "multihost: down"
}

case "${1:-}" in
up) mh_up "${2:?DIR}" ;;
down) mh_down "${2:?DIR}" ;;
cut) ip link set "csmh-${2:?NAME}" down ;;
mend) ip link set "csmh-${2:?NAME}" up ;;
kill) pid=$(cat "${3:?DIR}/${2:?NAME}.pid"); kill -9 "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done ;;
*) echo "usage: $0 up DIR | down DIR | cut NAME | mend NAME | kill NAME DIR" >&2; exit 2 ;;
esac
