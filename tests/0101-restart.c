/*
 * 0101-restart: cshield-ingest is killed with SIGKILL several times while it
 * consumes, and restarted; then more events arrive. The aggregates in Redis
 * must still equal the workload exactly: nothing lost, nothing counted twice.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

#define PARTS 3
#define EVENTS_A 30000
#define EVENTS_B 3000

int cs_test_0101(void) {
	cs_svc_run_t run;
	char alerts[160];
	int64_t total = 0, t0;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int kills_midway = 0, rc_check, st;
	redisContext *rc;
	pid_t pid;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	/* small batches, so that a kill falls between many flushes */
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "restart",
				       "flush.interval.ms=20\nflush.max.events=25\nworkers=2\n"
				       "kafka.session.timeout.ms=6000\nkafka.heartbeat.interval.ms=500\n"
				       "alerts.topic={topic}-alerts\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	snprintf(alerts, sizeof(alerts), "%s-alerts", run.topic);
	CS_TEST_EQ_INT(cs_svc_topic_create(alerts, 1), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 7200;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS_A, 11, t0, &exp, &malformed), 0);
	total = EVENTS_A;

	/* kill -9 at 15%, 40% and 65% of the way */
	for (int round = 0; round < 3; round++) {
		int64_t sum;
		CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
		cs_svc_wait_offsets(rc, &run, PARTS, total * (15 + 25 * round) / 100, 60000);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		sum = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
		CS_TEST_SAY("round %d: killed at %lld of %lld events flushed", round, (long long)sum,
			    (long long)total);
		if (sum < total)
			kills_midway++;
	}
	CS_TEST_ASSERT(kills_midway >= 1, "no kill fell mid-stream; the test proved nothing");

	/* a last run to the end, with more events arriving while it runs */
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS_B, 12, t0 + 600, &exp, &malformed), 0);
	total += EVENTS_B;
	CS_TEST_EQ_INT(cs_svc_log_end(run.topic, PARTS), total);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 120000), "lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "aggregates differ after kill -9 and restarts");
	/* alerts: exactly once in the Redis stream (same transaction as the offsets); in the topic
	 * a replay may repeat some, which the deterministic ids de-duplicate */
	{
		long want = (long)cs_svc_counts_hits(&exp);
		CS_TEST_ASSERT(!cs_svc_check_alert_stream(rc, &run, &exp), "alert stream after kill -9");
		CS_TEST_ASSERT(!cs_svc_check_alert_topic(alerts, &exp, want, 0), "alerts topic after kill -9");
	}
	{
		redisReply *r = redisCommand(rc, "HGET %s %s", run.k_stats, CS_KEYS_STAT_EVENTS);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING, "stats");
		CS_TEST_EQ_INT(strtoll(r->str, NULL, 10), total);
		freeReplyObject(r);
	}
	kill(pid, SIGTERM);
	st = cs_svc_wait(pid, 30000);
	if (st != 0) {
		cs_svc_dump_log(run.logf);
		CS_TEST_FAIL("exit status %d after SIGTERM", st);
	}
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
