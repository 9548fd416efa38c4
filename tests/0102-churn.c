/*
 * 0102-churn: rebalance churn. One cshield-ingest process (2 workers)
 * consumes while a second process joins and leaves again and again (SIGTERM
 * and SIGKILL in turn), each arrival and departure moving partitions between
 * members. The aggregates must still equal the workload exactly.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"

#define PARTS 6
#define EVENTS 60000

int cs_test_0102(void) {
	cs_svc_run_t run;
	int64_t hw[PARTS], total = 0, t0;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int rc_check, st, cycles = 0, moved = 0;
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
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 21, t0, &exp, &malformed), 0);
	CS_TEST_EQ_INT(cs_svc_watermarks(run.topic, PARTS, hw), 0);
	for (int p = 0; p < PARTS; p++)
		total += hw[p];
	CS_TEST_EQ_INT(total, EVENTS);

	CS_TEST_ASSERT((a = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn a");
	/* a second member joins and leaves, until the first has all of it */
	for (;;) {
		int64_t before = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL), after;
		if (before >= total || cycles >= 4)
			break;
		CS_TEST_ASSERT((b = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn b");
		cs_svc_sleep_ms(900 + 300 * (cycles % 3));
		kill(b, cycles % 2 ? SIGKILL : SIGTERM);
		st = cs_svc_wait(b, 30000);
		if (cycles % 2 ? st != -2 : st != 0) {
			cs_svc_dump_log(run.logf);
			kill(a, SIGKILL);
			CS_TEST_FAIL("member b, cycle %d: exit status %d", cycles, st);
		}
		after = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
		CS_TEST_SAY("cycle %d (%s): %lld -> %lld of %lld", cycles, cycles % 2 ? "SIGKILL" : "SIGTERM",
			    (long long)before, (long long)after, (long long)total);
		moved += after > before;
		cycles++;
	}
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, a, 120000), "lag never reached 0");
	CS_TEST_ASSERT(cycles >= 2, "only %d membership changes happened before the end", cycles);
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, a), "aggregates differ after rebalance churn");
	kill(a, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(a, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
