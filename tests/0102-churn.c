/*
 * 0102-churn: rebalance churn. One cshield-ingest process (2 workers)
 * consumes while, four times, new events arrive and a second process joins
 * and leaves again (SIGTERM, then SIGKILL, in turn), each arrival and
 * departure moving partitions between members. The aggregates must still
 * equal the workload exactly.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"

#define PARTS 6
#define BATCH0 20000
#define BATCH 10000
#define CYCLES 4

int cs_test_0102(void) {
	cs_svc_run_t run;
	int64_t total, t0;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int rc_check, st;
	redisContext *rc;
	pid_t a, b;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "churn",
				       "flush.interval.ms=20\nflush.max.events=5\nworkers=2\n"
				       "kafka.session.timeout.ms=6000\nkafka.heartbeat.interval.ms=500\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 3 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, BATCH0, 21, t0, &exp, &malformed), 0);

	CS_TEST_ASSERT((a = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn a");
	/* each cycle: new events arrive, a second member joins, then leaves (SIGTERM, then SIGKILL) */
	for (int cycle = 0; cycle < CYCLES; cycle++) {
		int64_t before = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL), after;
		CS_TEST_ASSERT((b = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn b");
		CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, BATCH, 22 + (unsigned)cycle, t0 + 600 * (cycle + 1),
						   &exp, &malformed),
			       0);
		cs_svc_sleep_ms(900 + 300 * (cycle % 3));
		kill(b, cycle % 2 ? SIGKILL : SIGTERM);
		st = cs_svc_wait(b, 30000);
		if (cycle % 2 ? st != -2 : st != 0) {
			cs_svc_dump_log(run.logf);
			kill(a, SIGKILL);
			CS_TEST_FAIL("member b, cycle %d: exit status %d", cycle, st);
		}
		after = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
		CS_TEST_SAY("cycle %d (%s): %lld -> %lld of %d produced so far", cycle, cycle % 2 ? "SIGKILL" : "SIGTERM",
			    (long long)before, (long long)after, BATCH0 + BATCH * (cycle + 1));
	}
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(total, BATCH0 + BATCH * CYCLES);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, a, 120000), "lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, a), "aggregates differ after rebalance churn");
	kill(a, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(a, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
