/*
 * 0125-multihost: production on several hosts, on one machine. Network
 * namespaces joined by a bridge (deploy/local/multihost.sh): a 3-broker KRaft
 * Kafka cluster (replication 3, min.insync.replicas 2), a Redis primary and
 * its replica watched by three Sentinels, and two cshield-ingest hosts in one
 * consumer group, finding Redis through the Sentinels. Events arrive in four
 * rounds, with a fault in between each:
 *   1. the broker leading partition 0 is killed (SIGKILL);
 *   2. one ingest host is cut off the network for longer than the session
 *      timeout, and brought back;
 *   3. the Redis primary is killed and failed over by the Sentinels.
 * At the end the counts and the alert stream in the new primary equal the
 * workload exactly. Needs root (ip netns): skipped without it, failed in CI.
 */
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <fcntl.h>

#include "cs_test_svc.h"

#define PARTS 6
#define ROUND 15000

extern char **environ;

static char mhdir[600];
static pid_t ingest_pid[2];

static void mh_down(void) {
	char cmd[1024];
	for (int i = 0; i < 2; i++)
		if (ingest_pid[i] > 0) {
			kill(ingest_pid[i], SIGKILL);
			waitpid(ingest_pid[i], NULL, 0);
			ingest_pid[i] = 0;
		}
	if (!*mhdir)
		return;
	snprintf(cmd, sizeof(cmd), "%s/deploy/local/multihost.sh down %s >/dev/null 2>&1", getenv("CS_SOURCE_DIR"), mhdir);
	if (system(cmd)) {
		/* best effort */
	}
	*mhdir = '\0';
}

static int mh(const char *what) {
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s/deploy/local/multihost.sh %s >>%s/multihost.log 2>&1", getenv("CS_SOURCE_DIR"), what,
		 cs_test_tmpdir());
	return system(cmd) ? -1 : 0;
}

/* cshield-ingest on host h (its namespace), its log in logf. */
static pid_t ingest_on(const char *host, const char *conf, const char *logf) {
	char ns[32], bin[600];
	pid_t pid;
	posix_spawn_file_actions_t fa;
	char *argv[] = {"ip", "netns", "exec", ns, bin, "-c", (char *)conf, NULL};
	snprintf(ns, sizeof(ns), "cs-mh-%s", host);
	snprintf(bin, sizeof(bin), "%s/ingest/cshield-ingest", cs_test_bindir());
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, logf, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (posix_spawnp(&pid, "ip", &fa, NULL, argv, environ))
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* One command to the Redis or Sentinel at addr ("host:port"). */
static redisReply *ask(const char *addr, const char *cmd) {
	char host[64];
	const char *colon = strrchr(addr, ':');
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	return cs_svc_redis_ask(host, atoi(colon + 1), cmd);
}

/* The broker leading partition 0 of topic (its node id), or -1. */
static int leader_of(const char *topic) {
	rd_kafka_t *rk = cs_svc_producer("none");
	rd_kafka_topic_t *rkt;
	const struct rd_kafka_metadata *md = NULL;
	int leader = -1;
	if (!rk)
		return -1;
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (!rd_kafka_metadata(rk, 0, rkt, &md, 10000) && md->topic_cnt == 1)
		for (int p = 0; p < md->topics[0].partition_cnt; p++)
			if (md->topics[0].partitions[p].id == 0)
				leader = md->topics[0].partitions[p].leader;
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	cs_svc_producer_close(rk);
	return leader;
}

int cs_test_0125(void) {
	cs_svc_run_t run;
	char extra[1024], path[700], logs[2][600], what[700];
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int64_t t0, at, total = 0;
	redisContext *rc;
	int rc_check, leader;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	if (geteuid() != 0 || system("ip netns list >/dev/null 2>&1")) {
		CS_TEST_ASSERT(!getenv("CS_REQUIRE_SERVICES") || strcmp(getenv("CS_REQUIRE_SERVICES"), "1"),
			       "needs root and ip netns");
		return CS_TEST_SKIP;
	}
	atexit(mh_down);
	snprintf(mhdir, sizeof(mhdir), "%s/mh", cs_test_tmpdir());
	snprintf(what, sizeof(what), "up %s", mhdir);
	CS_TEST_ASSERT(!mh(what), "multihost.sh up (log: %s/multihost.log)", cs_test_tmpdir());
	snprintf(path, sizeof(path), "%s/env", mhdir);
	CS_TEST_EQ_INT(cs_svc_load_env(path), 0);
	setenv("CS_KAFKA_BOOTSTRAP", getenv("CS_MH_KAFKA"), 1);
	setenv("CS_REDIS_ADDR", getenv("CS_MH_REDIS_PRIMARY"), 1);
	setenv("CS_TEST_REPLICATION", "3", 1);
	/* the Sentinels know the replica and each other */
	for (int waited = 0;; waited += 500) {
		int ready = 0;
		const char *s = getenv("CS_MH_SENTINELS");
		for (int i = 0; i < 3; i++) {
			char one[64], *colon;
			const char *end = strchr(s, ',');
			snprintf(one, sizeof(one), "%.*s", end ? (int)(end - s) : (int)strlen(s), s);
			if ((colon = strrchr(one, ':'))) {
				*colon = '\0';
				ready += cs_svc_sentinel_ready(one, atoi(colon + 1), "cshield", 1, 2);
			}
			s = end ? end + 1 : s;
		}
		if (ready == 3)
			break;
		CS_TEST_ASSERT(waited < 60000, "the Sentinels never saw the replica and each other");
		cs_svc_sleep_ms(500);
	}
	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=50\nflush.max.events=500\nworkers=2\nredis.sentinels=%s\nredis.master.name=%s\n"
		 "redis.command.timeout.ms=1000\nredis.connect.timeout.ms=500\nkafka.session.timeout.ms=6000\n"
		 "kafka.heartbeat.interval.ms=1000\nalerts.stream.maxlen=10000000\n",
		 getenv("CS_MH_SENTINELS"), getenv("CS_MH_MASTER"));
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "multihost", extra), 0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 12 * 3600;
	for (int i = 0; i < 2; i++) {
		snprintf(logs[i], sizeof(logs[i]), "%s/ingest-i%d.log", cs_test_tmpdir(), i + 1);
		CS_TEST_ASSERT((ingest_pid[i] = ingest_on(i ? "i2" : "i1", run.conf, logs[i])) > 0, "ingest on i%d", i + 1);
	}

	/* round 1, then the leader of partition 0 dies */
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, ROUND, 251, t0, &exp, &malformed), 0);
	total += ROUND;
	at = cs_svc_wait_offsets(rc, &run, PARTS, total / 2, 120000);
	CS_TEST_ASSERT(at >= total / 2, "round 1: %lld recorded", (long long)at);
	CS_TEST_ASSERT((leader = leader_of(run.topic)) >= 1 && leader <= 3, "leader %d", leader);
	snprintf(what, sizeof(what), "kill k%d %s", leader, mhdir);
	CS_TEST_EQ_INT(mh(what), 0);
	CS_TEST_SAY("round 1: killed broker %d (leader of partition 0) at %lld of %lld recorded", leader, (long long)at,
		    (long long)total);
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, ROUND, 252, t0 + 3600, &exp, &malformed), 0);
	total += ROUND;
	at = cs_svc_wait_offsets(rc, &run, PARTS, total, 180000);
	CS_TEST_ASSERT(at == total, "round 2 (a broker down): %lld of %lld recorded", (long long)at, (long long)total);

	/* one ingest host off the network for longer than the session timeout */
	{
		int before = cs_svc_log_count(logs[0], " assigned ");
		CS_TEST_EQ_INT(mh("cut i2"), 0);
		CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, ROUND, 253, t0 + 7200, &exp, &malformed), 0);
		total += ROUND;
		cs_svc_sleep_ms(15000);
		/* the group gave i2's partitions to i1 while i2 was away */
		CS_TEST_ASSERT(cs_svc_log_count(logs[0], " assigned ") > before, "i1 took no partition while i2 was cut off");
		CS_TEST_EQ_INT(mh("mend i2"), 0);
	}
	at = cs_svc_wait_offsets(rc, &run, PARTS, total, 180000);
	CS_TEST_ASSERT(at == total, "round 3 (i2 cut off 15 s): %lld of %lld recorded", (long long)at, (long long)total);
	CS_TEST_SAY("round 3: i2 cut off for 15 s and back; all %lld recorded", (long long)total);

	/* the Redis primary dies mid-stream; the Sentinels fail over */
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, ROUND, 254, t0 + 10800, &exp, &malformed), 0);
	total += ROUND;
	at = cs_svc_wait_offsets(rc, &run, PARTS, total - ROUND / 2, 120000);
	snprintf(what, sizeof(what), "kill r1 %s", mhdir);
	CS_TEST_EQ_INT(mh(what), 0);
	redisFree(rc);
	CS_TEST_SAY("round 4: killed the Redis primary at %lld of %lld recorded", (long long)at, (long long)total);
	CS_TEST_ASSERT(at < total, "everything was recorded before the primary died: the failover proved nothing");
	for (int waited = 0;; waited += 500) {
		redisReply *r = ask("10.77.0.11:26379", "SENTINEL get-master-addr-by-name cshield");
		int moved = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && strcmp(r->element[0]->str, "10.77.0.21");
		if (r)
			freeReplyObject(r);
		if (moved)
			break;
		CS_TEST_ASSERT(waited < 60000, "no failover");
		cs_svc_sleep_ms(500);
	}
	setenv("CS_REDIS_ADDR", getenv("CS_MH_REDIS_REPLICA"), 1);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "the new primary");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, -1, 180000), "lag never reached 0 on the new primary");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, -1), "counts after the three faults");
	CS_TEST_ASSERT(!cs_svc_check_alert_stream(rc, &run, &exp), "alerts after the three faults");
	for (int i = 0; i < 2; i++) {
		kill(ingest_pid[i], SIGTERM);
		CS_TEST_EQ_INT(cs_svc_wait(ingest_pid[i], 60000), 0);
		ingest_pid[i] = 0;
	}
	cs_svc_counts_free(&exp);
	redisFree(rc);
	mh_down();
	return 0;
}
