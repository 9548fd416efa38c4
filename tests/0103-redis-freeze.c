/*
 * 0103-redis-freeze: redis-server is frozen (SIGSTOP) for 30 s while
 * cshield-ingest consumes. Flushes time out (one may even be applied late,
 * when Redis wakes up, after the client gave up on it), partitions are
 * paused, flushes are retried with backoff; after SIGCONT everything
 * resumes. While frozen (read from the metrics endpoint and /proc): every
 * partition paused, nothing consumed between the 5th and the 28th second,
 * the pending bytes under flush.max.bytes, the resident memory flat. The
 * offset check in the flush script must keep the counts exact: nothing lost,
 * nothing counted twice.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

#define PARTS 3
#define EVENTS 40000

int cs_test_0103(void) {
	cs_svc_run_t run;
	int64_t total, t0, at_freeze, after_freeze;
	cs_svc_counts_t exp = {0};
	long malformed = 0;
	int rc_check, st;
	redisContext *rc;
	pid_t pid, redis_pid;
	const char *pidfile = getenv("CS_REDIS_PIDFILE");
	FILE *fp;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	if (!pidfile || !(fp = fopen(pidfile, "r"))) {
		CS_TEST_SAY("CS_REDIS_PIDFILE not set or unreadable: the local redis-server is needed");
		return getenv("CS_REQUIRE_SERVICES") ? 1 : CS_TEST_SKIP;
	}
	CS_TEST_ASSERT(fscanf(fp, "%d", &redis_pid) == 1 && redis_pid > 0, "pid file");
	fclose(fp);
	/* one worker: the group is settled before the freeze (a rebalance during a Redis outage is
	 * test 0104's) */
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "freeze",
				       "flush.interval.ms=20\nflush.max.events=50\nworkers=1\n"
				       "redis.command.timeout.ms=500\nredis.connect.timeout.ms=500\n"
				       "metrics.listen=127.0.0.1:0\nflush.max.bytes=1048576\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 4 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 31, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(total, EVENTS);

	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	/* freeze once consumption is under way */
	at_freeze = cs_svc_wait_offsets(rc, &run, PARTS, total / 10, 60000);
	CS_TEST_EQ_INT(kill(redis_pid, SIGSTOP), 0);
	{
		static char m[65536];
		long long consumed[2], paused[2], pending[2], rss[2];
		int port = cs_svc_metrics_port(run.logf);
		CS_TEST_ASSERT(port > 0, "no metrics port in the log");
		for (int k = 0; k < 2; k++) {
			cs_svc_sleep_ms(k == 0 ? 5000 : 23000);
			if (cs_svc_http_get(port, "/metrics", m, sizeof(m)) != 200) {
				kill(redis_pid, SIGCONT);
				CS_TEST_FAIL("metrics endpoint did not answer while Redis was frozen");
			}
			consumed[k] = cs_svc_metric_sum(m, "cshield_messages_consumed_total", NULL);
			paused[k] = cs_svc_metric_sum(m, "cshield_partitions_paused", NULL);
			pending[k] = cs_svc_metric_sum(m, "cshield_pending_bytes", NULL);
			rss[k] = cs_svc_metric_sum(m, "cshield_resident_memory_bytes", NULL);
		}
		CS_TEST_EQ_INT(kill(redis_pid, SIGCONT), 0);
		CS_TEST_SAY("frozen: at 5 s %lld messages consumed, %lld partitions paused, %lld bytes pending, RSS %lld MB; "
			    "at 28 s %lld, %lld, %lld, %lld MB",
			    consumed[0], paused[0], pending[0], rss[0] >> 20, consumed[1], paused[1], pending[1], rss[1] >> 20);
		CS_TEST_EQ_INT(paused[0], PARTS);
		CS_TEST_EQ_INT(paused[1], PARTS);
		CS_TEST_EQ_INT(consumed[1], consumed[0]); /* paused means paused */
		CS_TEST_ASSERT(pending[1] <= 1048576, "pending bytes %lld over flush.max.bytes", pending[1]);
		CS_TEST_ASSERT(rss[1] - rss[0] < 8 << 20, "RSS grew by %lld MB while frozen", (rss[1] - rss[0]) >> 20);
	}
	redisFree(rc); /* our own connection may have timed out meanwhile */
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis after SIGCONT");
	after_freeze = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
	CS_TEST_SAY("frozen at %lld of %lld events, %lld just after the thaw", (long long)at_freeze, (long long)total,
		    (long long)after_freeze);
	CS_TEST_ASSERT(at_freeze < total, "consumption ended before the freeze: the test proved nothing");
	if (waitpid(pid, &st, WNOHANG) == pid) {
		cs_svc_dump_log(run.logf);
		CS_TEST_FAIL("cshield-ingest exited while Redis was frozen");
	}
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 120000), "lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "aggregates differ after Redis was frozen");
	{
		redisReply *r = redisCommand(rc, "HGET %s %s", run.k_stats, CS_KEYS_STAT_EVENTS);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING, "stats");
		CS_TEST_EQ_INT(strtoll(r->str, NULL, 10), total);
		freeReplyObject(r);
	}
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
