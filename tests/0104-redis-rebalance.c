/*
 * 0104-redis-rebalance: the group rebalances while Redis does not answer.
 * One cshield-ingest consumes; redis-server is frozen (SIGSTOP); a second
 * process joins, so partitions move while nobody can read where they stand
 * in Redis; after the thaw (SIGCONT) both must settle their partitions at the
 * Redis offsets and finish with the exact counts. Run once with the eager
 * protocol (range) and once with cooperative-sticky (incremental assign).
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

#define PARTS 4
#define EVENTS 30000

static int cs__rebalance_during_outage(const char *name, const char *strategy, pid_t redis_pid, unsigned seed) {
	cs_svc_run_t run;
	char extra[512];
	int64_t total, t0, at_freeze, after_thaw;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	redisContext *rc;
	pid_t a, b;
	int st;

	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=20\nflush.max.events=50\nworkers=1\n"
		 "redis.command.timeout.ms=500\nredis.connect.timeout.ms=500\n"
		 "kafka.partition.assignment.strategy=%s\n"
		 "kafka.session.timeout.ms=6000\nkafka.heartbeat.interval.ms=500\n",
		 strategy);
	CS_TEST_EQ_INT(cs_svc_run_init(&run, name, extra), 0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 5 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, seed, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(total, EVENTS);

	CS_TEST_ASSERT((a = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn a");
	at_freeze = cs_svc_wait_offsets(rc, &run, PARTS, total / 10, 60000);
	CS_TEST_EQ_INT(kill(redis_pid, SIGSTOP), 0);
	/* the second member joins during the outage: partitions move, nobody can read Redis */
	if ((b = cs_svc_ingest_start(run.conf, run.logf)) <= 0) {
		kill(redis_pid, SIGCONT);
		CS_TEST_FAIL("spawn b");
	}
	cs_svc_sleep_ms(9000);
	CS_TEST_EQ_INT(kill(redis_pid, SIGCONT), 0);
	redisFree(rc);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis after SIGCONT");
	after_thaw = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
	CS_TEST_SAY("%s: frozen at %lld of %lld events, %lld just after the thaw", strategy, (long long)at_freeze,
		    (long long)total, (long long)after_thaw);
	CS_TEST_ASSERT(at_freeze < total, "consumption ended before the freeze: the test proved nothing");
	if (waitpid(a, &st, WNOHANG) == a || waitpid(b, &st, WNOHANG) == b) {
		cs_svc_dump_log(run.logf);
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		CS_TEST_FAIL("a member exited while Redis was frozen");
	}
	if (cs_svc_wait_lag0(rc, &run, PARTS, total, a, 120000)) {
		kill(b, SIGKILL);
		CS_TEST_FAIL("%s: lag never reached 0 after a rebalance during the outage", strategy);
	}
	if (cs_svc_check_counts(rc, &run, &exp, a)) {
		kill(b, SIGKILL);
		CS_TEST_FAIL("%s: aggregates differ after a rebalance during the outage", strategy);
	}
	{
		redisReply *r = redisCommand(rc, "HGET %s %s", run.k_stats, CS_KEYS_STAT_EVENTS);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING, "stats");
		CS_TEST_EQ_INT(strtoll(r->str, NULL, 10), total);
		freeReplyObject(r);
	}
	{ /* both members really took part: each logged an assignment */
		FILE *fp = fopen(run.logf, "r");
		char line[4096];
		int assigned_lines = 0;
		CS_TEST_ASSERT(fp, "log");
		while (fgets(line, sizeof(line), fp))
			assigned_lines += strstr(line, " assigned ") != NULL;
		fclose(fp);
		CS_TEST_ASSERT(assigned_lines >= 2, "expected partitions assigned to both members");
	}
	kill(b, SIGTERM);
	kill(a, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(b, 30000), 0);
	CS_TEST_EQ_INT(cs_svc_wait(a, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}

int cs_test_0104(void) {
	const char *pidfile = getenv("CS_REDIS_PIDFILE");
	int rc_check, redis_pid;
	FILE *fp;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	if (!pidfile || !(fp = fopen(pidfile, "r"))) {
		CS_TEST_SAY("CS_REDIS_PIDFILE not set or unreadable: the local redis-server is needed");
		return getenv("CS_REQUIRE_SERVICES") ? 1 : CS_TEST_SKIP;
	}
	CS_TEST_ASSERT(fscanf(fp, "%d", &redis_pid) == 1 && redis_pid > 0, "pid file");
	fclose(fp);
	if ((rc_check = cs__rebalance_during_outage("rebal-eager", "range", redis_pid, 41)))
		return rc_check;
	return cs__rebalance_during_outage("rebal-coop", "cooperative-sticky", redis_pid, 42);
}
