#!/usr/bin/env bash
# Usage: deploy/local/kafka.sh start|stop|restart [kill]|status|address|fetch|topic NAME [PARTITIONS]
#
# A real single-node Apache Kafka broker in KRaft mode (broker + controller in
# one JVM) on free loopback ports. Its jars come from Maven Central through
# deploy/kafka/pom.xml and are cached in $CS_CACHE_DIR. Data, logs and the pid
# live in $CS_LOCAL_DIR/kafka and are wiped on every start.
# `start` returns once a topic could be created, produced to and read back,
# and prints the bootstrap address. `restart [kill]` stops (or SIGKILLs) the
# broker and starts it again on the same ports and data (the fault tests).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KDIR=$CS_LOCAL_DIR/kafka
LIBS=$CS_CACHE_DIR/kafka-$CS_KAFKA_VERSION/libs

kafka_fetch() {
	if [ -f "$LIBS/.complete" ]; then
		return 0
	fi
	command -v mvn >/dev/null || cs_die "Maven (mvn) is needed to fetch the broker jars: run deploy/install-deps.sh"
	cs_log "fetching Apache Kafka $CS_KAFKA_VERSION jars from Maven Central"
	rm -rf "$LIBS"
	mkdir -p "$LIBS"
	mvn -q -B -f "$CS_ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$LIBS" >&2 \
		|| cs_die "mvn could not resolve the Kafka jars (see above)"
	ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 || cs_die "kafka_2.13 jar missing after mvn"
	touch "$LIBS/.complete"
}

CS__SASL_USER=cshield-test
CS__SASL_PASS=cshield-test-scram-secret
CS__KS_PASS=cshield-test-keystore

# A test CA and the broker's certificate (127.0.0.1), as PKCS12; a second CA nobody signed with.
kafka_certs() {
	local t=$KDIR/tls
	mkdir -p "$t"
	{
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=cshield test CA" \
			-keyout "$t/ca.key" -out "$t/ca.pem"
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=another CA" \
			-keyout "$t/other-ca.key" -out "$t/other-ca.pem"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$t/broker.key" -out "$t/broker.csr"
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$t/san.ext"
		openssl x509 -req -in "$t/broker.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 30 \
			-extfile "$t/san.ext" -out "$t/broker.pem"
		openssl pkcs12 -export -in "$t/broker.pem" -inkey "$t/broker.key" -certfile "$t/ca.pem" \
			-out "$t/broker.p12" -passout "pass:$CS__KS_PASS"
	} >>"$KDIR/logs/tool.log" 2>&1 || cs_die "making the test certificates failed (openssl)"
}

kjava() {
	java -Xms128m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
		-Dkafka.logs.dir="$KDIR/logs" \
		-Dlog4j2.configurationFile="$CS_ROOT/deploy/kafka/log4j2.properties" \
		-cp "$LIBS/*" "$@"
}

# The single-node KRaft broker's server.properties in DIR (used by kafka_start and kafka_scram_start):
# PLAINTEXT on PORT, the controller on CPORT, SASL_SSL on SPORT with the SASL MECHANISMS given and
# DIR/tls's keystore; lines on stdin are appended (version-specific settings, more JAAS lines).
kafka_write_props() {
	local dir=$1 port=$2 cport=$3 sport=$4 mechs=$5
	{
		cat <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_SSL://127.0.0.1:$sport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=$mechs
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$dir/tls/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$CS__KS_PASS
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
		cat
	} > "$dir/server.properties"
}

kafka_start() {
	if cs_pid_alive "$KDIR/kafka.pid"; then
		cs_log "Kafka already running at $(cat "$KDIR/address")"
		cat "$KDIR/address"
		return 0
	fi
	command -v java >/dev/null || cs_die "java (17+) is needed: run deploy/install-deps.sh"
	command -v kcat >/dev/null || cs_die "kcat is needed: run deploy/install-deps.sh"
	kafka_fetch
	rm -rf "$KDIR"
	mkdir -p "$KDIR/data" "$KDIR/logs"
	local port cport sport cid i addr
	port=$(cs_free_port)
	cport=$(cs_free_port)
	while [ "$cport" = "$port" ]; do cport=$(cs_free_port); done
	sport=$(cs_free_port)
	while [ "$sport" = "$port" ] || [ "$sport" = "$cport" ]; do sport=$(cs_free_port); done
	addr=127.0.0.1:$port
	kafka_certs
	kafka_write_props "$KDIR" "$port" "$cport" "$sport" SCRAM-SHA-512,PLAIN <<PROPS
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$CS__SASL_USER="$CS__SASL_PASS";
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
log.flush.interval.messages=9223372036854775807
PROPS
	cid=$(kjava kafka.tools.StorageTool random-uuid 2>>"$KDIR/logs/tool.log")
	kjava kafka.tools.StorageTool format -t "$cid" -c "$KDIR/server.properties" \
		--add-scram "SCRAM-SHA-512=[name=$CS__SASL_USER,password=$CS__SASL_PASS]" \
		>>"$KDIR/logs/tool.log" 2>&1 || { cat "$KDIR/logs/tool.log" >&2; cs_die "kafka storage format failed"; }
	nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
		-Dkafka.logs.dir="$KDIR/logs" \
		-Dlog4j2.configurationFile="$CS_ROOT/deploy/kafka/log4j2.properties" \
		-cp "$LIBS/*" kafka.Kafka "$KDIR/server.properties" \
		>"$KDIR/logs/stdout.log" 2>&1 < /dev/null &
	echo $! > "$KDIR/kafka.pid"
	echo "$addr" > "$KDIR/address"
	# the SASL_SSL listener, for the tests of Kafka security (test-only user and password): SCRAM-SHA-512
	# (for clients with librdkafka 2.6.1 or later: older ones fail SCRAM against Kafka 4, librdkafka
	# #4895) and PLAIN, with the same user
	printf 'export CS_KAFKA_SASL_BOOTSTRAP=127.0.0.1:%s\nexport CS_KAFKA_CA=%s\nexport CS_KAFKA_OTHER_CA=%s\nexport CS_KAFKA_SASL_USER=%s\nexport CS_KAFKA_SASL_PASSWORD=%s\n' \
		"$sport" "$KDIR/tls/ca.pem" "$KDIR/tls/other-ca.pem" "$CS__SASL_USER" "$CS__SASL_PASS" > "$KDIR/sasl.env"
	cs_log "Kafka $CS_KAFKA_VERSION starting at $addr (pid $(cat "$KDIR/kafka.pid"))"

	for i in $(seq 1 120); do
		cs_pid_alive "$KDIR/kafka.pid" || { tail -30 "$KDIR/logs/"*.log >&2; cs_die "Kafka exited during start-up"; }
		if kcat -b "$addr" -L -t __cs_none -m 2 >/dev/null 2>&1; then
			break
		fi
		sleep 0.5
	done
	# Ready means: a topic can be created, produced to and read back.
	kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" --create \
		--if-not-exists --topic cshield.ready --partitions 1 --replication-factor 1 \
		>>"$KDIR/logs/tool.log" 2>&1 || { tail -20 "$KDIR/logs/tool.log" >&2; kafka_stop; cs_die "could not create a topic"; }
	for i in $(seq 1 60); do
		if echo "ready-$i" | kcat -b "$addr" -P -t cshield.ready -X message.timeout.ms=5000 2>/dev/null &&
		   kcat -b "$addr" -C -t cshield.ready -o -1 -c 1 -e -q 2>/dev/null | grep -q "ready-$i"; then
			cs_log "Kafka ready at $addr"
			echo "$addr"
			return 0
		fi
		sleep 0.5
	done
	kafka_stop
	cs_die "Kafka did not become ready (logs in $KDIR/logs)"
}

# Restarts the broker on the same ports and data (a fault test: `restart kill` is a SIGKILL).
kafka_restart() {
	local how=${1:-term} addr i
	[ -f "$KDIR/server.properties" ] || cs_die "Kafka was never started here"
	addr=$(cat "$KDIR/address")
	if [ "$how" = kill ] && cs_pid_alive "$KDIR/kafka.pid"; then
		kill -9 "$(cat "$KDIR/kafka.pid")"
		while cs_pid_alive "$KDIR/kafka.pid"; do sleep 0.1; done
	else
		kafka_stop
	fi
	nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
		-Dkafka.logs.dir="$KDIR/logs" \
		-Dlog4j2.configurationFile="$CS_ROOT/deploy/kafka/log4j2.properties" \
		-cp "$LIBS/*" kafka.Kafka "$KDIR/server.properties" \
		>>"$KDIR/logs/stdout.log" 2>&1 < /dev/null &
	echo $! > "$KDIR/kafka.pid"
	for i in $(seq 1 240); do
		cs_pid_alive "$KDIR/kafka.pid" || { tail -30 "$KDIR/logs/stdout.log" >&2; cs_die "Kafka exited during restart"; }
		if kcat -b "$addr" -C -t cshield.ready -o -1 -c 1 -e -q >/dev/null 2>&1; then
			cs_log "Kafka restarted at $addr"
			return 0
		fi
		sleep 0.25
	done
	cs_die "Kafka did not come back after the restart (logs in $KDIR/logs)"
}

kafka_stop() {
	if [ -f "$KDIR/kafka.pid" ]; then
		cs_pid_stop "$KDIR/kafka.pid" 60
		cs_log "Kafka stopped"
	fi
}

kafka_topic() {
	local name=$1 parts=${2:-1}
	cs_pid_alive "$KDIR/kafka.pid" || cs_die "Kafka is not running"
	kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$(cat "$KDIR/address")" \
		--create --if-not-exists --topic "$name" --partitions "$parts" --replication-factor 1 \
		>>"$KDIR/logs/tool.log" 2>&1 || { tail -5 "$KDIR/logs/tool.log" >&2; cs_die "creating topic $name failed"; }
	cs_log "topic $name ($parts partitions)"
}

# A second, short-lived broker for the SCRAM test (0126): Apache Kafka $CS_KAFKA_SCRAM_VERSION (3.9:
# librdkafka before 2.6.1, Debian 12's 2.0.2 among them, cannot SCRAM with Kafka 4, #4895), a
# PLAINTEXT listener for the test's own clients and a SASL_SSL one with SCRAM-SHA-512 only.
# `scram-start DIR` writes DIR/env (its addresses, CA, user) once it answers; `scram-stop DIR`.
CS_KAFKA_SCRAM_VERSION=3.9.1
kafka_scram_start() {
	local dir=$1 port cport sport cid i libs=$CS_CACHE_DIR/kafka-$CS_KAFKA_SCRAM_VERSION/libs
	if [ ! -f "$libs/.complete" ]; then
		cs_log "fetching Apache Kafka $CS_KAFKA_SCRAM_VERSION jars from Maven Central (the SCRAM test)"
		rm -rf "$libs"
		mkdir -p "$libs"
		mvn -q -B -f "$CS_ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies -Dkafka.version="$CS_KAFKA_SCRAM_VERSION" \
			-DincludeScope=runtime -DoutputDirectory="$libs" >&2 || cs_die "mvn could not resolve Kafka $CS_KAFKA_SCRAM_VERSION"
		touch "$libs/.complete"
	fi
	rm -rf "$dir"
	mkdir -p "$dir/data" "$dir/logs"
	KDIR=$dir kafka_certs
	port=$(cs_free_port); cport=$(cs_free_port); sport=$(cs_free_port)
	kafka_write_props "$dir" "$port" "$cport" "$sport" SCRAM-SHA-512 </dev/null
	cid=$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>>"$dir/logs/tool.log")
	java -cp "$libs/*" kafka.tools.StorageTool format -t "$cid" -c "$dir/server.properties" \
		--add-scram "SCRAM-SHA-512=[name=$CS__SASL_USER,password=$CS__SASL_PASS]" >>"$dir/logs/tool.log" 2>&1 \
		|| { cat "$dir/logs/tool.log" >&2; cs_die "kafka $CS_KAFKA_SCRAM_VERSION storage format failed"; }
	nohup java -Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true -Dkafka.logs.dir="$dir/logs" \
		-cp "$libs/*" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 </dev/null &
	echo $! > "$dir/kafka.pid"
	for i in $(seq 1 120); do
		cs_pid_alive "$dir/kafka.pid" || { tail -30 "$dir/logs/stdout.log" >&2; cs_die "Kafka $CS_KAFKA_SCRAM_VERSION exited"; }
		kcat -b "127.0.0.1:$sport" -X security.protocol=SASL_SSL -X sasl.mechanisms=SCRAM-SHA-512 \
			-X sasl.username="$CS__SASL_USER" -X sasl.password="$CS__SASL_PASS" -X ssl.ca.location="$dir/tls/ca.pem" \
			-L -m 2 >/dev/null 2>&1 && break
		sleep 0.5
	done
	[ "$i" -lt 120 ] || cs_die "Kafka $CS_KAFKA_SCRAM_VERSION did not take a SCRAM login ($dir/logs)"
	printf 'export CS_SCRAM_BOOTSTRAP=127.0.0.1:%s\nexport CS_SCRAM_SASL_BOOTSTRAP=127.0.0.1:%s\nexport CS_SCRAM_CA=%s\nexport CS_SCRAM_USER=%s\nexport CS_SCRAM_PASSWORD=%s\n' \
		"$port" "$sport" "$dir/tls/ca.pem" "$CS__SASL_USER" "$CS__SASL_PASS" > "$dir/env"
	cs_log "Kafka $CS_KAFKA_SCRAM_VERSION with SCRAM-SHA-512 on 127.0.0.1:$sport"
}

case "${1:-}" in
scram-start) kafka_scram_start "${2:?DIR}" ;;
scram-stop) cs_pid_stop "${2:?DIR}/kafka.pid" 30 ;;
start) kafka_start ;;
topic) shift; kafka_topic "$@" ;;
stop) kafka_stop ;;
restart) shift; kafka_restart "$@" ;;
status) if cs_pid_alive "$KDIR/kafka.pid"; then echo "running $(cat "$KDIR/address")"; else echo stopped; exit 1; fi ;;
address) cat "$KDIR/address" ;;
fetch) kafka_fetch ;;
*) echo "usage: $0 start|stop|restart [kill]|status|address|fetch|topic NAME [PARTITIONS]" >&2; exit 2 ;;
esac
