#!/usr/bin/env bash
# The quickstart: install, build, start a local Kafka broker and Redis,
# produce generated SOC events (Suricata EVE) with some indicators in them,
# run cshield-ingest until it has consumed them all, and print the report.
# CS_KEEP=1 leaves Kafka and Redis running (stop: deploy/local/services.sh stop).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$CS_ROOT"
EVENTS=${CS_QS_EVENTS:-200000}
TOPIC=cshield.events

"$CS_ROOT/deploy/install-deps.sh"
"$CS_ROOT/deploy/local/build.sh" release >/dev/null
BIN=$CS_ROOT/build
[ "${CS_KEEP:-0}" = 1 ] || trap '"$CS_ROOT/deploy/local/services.sh" stop >/dev/null 2>&1 || true' EXIT
"$CS_ROOT/deploy/local/services.sh" start >/dev/null
. "$CS_LOCAL_DIR/env"
"$CS_ROOT/deploy/local/kafka.sh" topic "$TOPIC" 6
"$CS_ROOT/deploy/local/kafka.sh" topic cshield.deadletter 1
"$CS_ROOT/deploy/local/kafka.sh" topic cshield.escalations 1

QS=$CS_LOCAL_DIR/quickstart
mkdir -p "$QS"
"$BIN/bench/cshield-bench" gen-indicators --indicators 2000 --seed 7 > "$QS/indicators.txt"
"$BIN/bench/cshield-bench" gen-participants > "$QS/participants.json"
"$BIN/bench/cshield-bench" produce --events "$EVENTS" --indicators 2000 --seed 7 \
	--hit-rate 0.005 --span 900 --topic "$TOPIC" --compression lz4
cat > "$QS/ingest.conf" <<CONF
# cshield-ingest configuration of the quickstart (see docs/CONFIGURATION.md)
topics=$TOPIC
group.id=cshield-quickstart
indicators.file=$QS/indicators.txt
participants.file=$QS/participants.json
dlq.topic=cshield.deadletter
escalations.topic=cshield.escalations
kafka.bootstrap.servers=$CS_KAFKA_BOOTSTRAP
redis.host=${CS_REDIS_ADDR%:*}
redis.port=${CS_REDIS_ADDR##*:}
CONF
"$BIN/ingest/cshield-ingest" -c "$QS/ingest.conf" 2> "$QS/ingest.log" &
pid=$!
cs_log "cshield-ingest running (pid $pid, log $QS/ingest.log)"
port=${CS_REDIS_ADDR##*:}
for i in $(seq 1 600); do
	n=$(redis-cli -p "$port" HGET cs:stats events)
	[ "${n:-0}" -ge "$EVENTS" ] && break
	kill -0 $pid 2>/dev/null || { tail -20 "$QS/ingest.log" >&2; cs_die "cshield-ingest exited"; }
	sleep 0.2
done
kill -TERM $pid
wait $pid || cs_die "cshield-ingest did not exit cleanly (log: $QS/ingest.log)"
cs_log "consumed $EVENTS events; the 25 busiest rows and the totals:"
# the generated indicators are unmarked, so TLP:AMBER (indicators.tlp); the public report
# (--tlp clear, the default) would withhold every row
"$BIN/report/cshield-report" --redis "$CS_REDIS_ADDR" --tlp amber > "$QS/report.txt"
sed '1,2d;$d' "$QS/report.txt" | sort -k4,4nr > "$QS/report.sorted"
head -2 "$QS/report.txt"
head -25 "$QS/report.sorted"
tail -1 "$QS/report.txt"
cs_log "full report: $QS/report.txt"
# the situation report of the last 24 hours, as the hub's members (TLP:AMBER) may read it
"$BIN/report/cshield-report" --redis "$CS_REDIS_ADDR" --format html --last 24h --tlp amber \
	--title "Cyber Shield quickstart" -o "$QS/report.html"
"$BIN/report/cshield-report" --redis "$CS_REDIS_ADDR" --format md --last 24h --tlp amber > "$QS/report.md"
cs_log "situation report (open it in a browser): $QS/report.html (Markdown: $QS/report.md)"
# one indicator hit in several member states, or by several organizations: an escalation
# (docs/ESCALATION.md), decided in the flush, relayed to cshield.escalations; its draft early warning
"$BIN/report/cshield-report" --redis "$CS_REDIS_ADDR" --early-warning --last 24h --tlp amber > "$QS/early-warnings.md"
cs_log "escalations: $(redis-cli -p "$port" XLEN cs:escalations:amber) AMBER, $(redis-cli -p "$port" XLEN cs:escalations:green) GREEN; draft early warnings: $QS/early-warnings.md"
