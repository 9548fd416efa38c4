/*
 * 0114-bytes-cap: flush.max.bytes alone drives the flushes. The interval is
 * a minute and the event cap out of reach, so without the byte cap nothing
 * would be written for a minute; with flush.max.bytes=65536 and an alert
 * (~600 bytes) per hit, the worker must flush every hundred-odd hits, record
 * nearly all of the workload well within the minute, never hold more than the
 * cap (plus one message) pending, and count exactly once SIGTERM has flushed
 * the tail.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"

#define PARTS 2
#define EVENTS 4000

int cs_test_0114(void) {
	static char m[65536];
	cs_svc_run_t run;
	int64_t total, t0;
	cs_svc_counts_t exp = {0};
	long malformed = 0, hits;
	long long flushes, peak = 0;
	int64_t recorded;
	redisContext *rc;
	pid_t pid;
	int rc_check, port;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "bytescap",
				       "flush.interval.ms=60000\nflush.max.events=100000000\nflush.max.bytes=65536\n"
				       "workers=1\nmetrics.listen=127.0.0.1:0\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 15 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 141, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	hits = (long)cs_svc_counts_hits(&exp);

	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "metrics on", 1, 20000, pid), 0);
	port = cs_svc_metrics_port(run.logf);
	CS_TEST_ASSERT(port > 0, "no metrics port in the log");
	/* everything consumed, and most of it recorded, long before the first interval flush:
	 * only the byte cap can have flushed; the tail (under the cap) waits for SIGTERM */
	for (int waited = 0;; waited += 50) {
		long long consumed = -1;
		if (cs_svc_http_get(port, "/metrics", m, sizeof(m)) == 200) {
			long long pb = cs_svc_metric_sum(m, "cshield_pending_bytes", NULL);
			consumed = cs_svc_metric_sum(m, "cshield_messages_consumed_total", NULL);
			if (pb > peak)
				peak = pb;
		}
		if (consumed == total)
			break;
		if (waited > 30000) {
			cs_svc_dump_log(run.logf);
			kill(pid, SIGKILL);
			CS_TEST_FAIL("%lld of %lld messages consumed after 30 s", consumed, (long long)total);
		}
		cs_svc_sleep_ms(50);
	}
	cs_svc_sleep_ms(500);
	CS_TEST_EQ_INT(cs_svc_http_get(port, "/metrics", m, sizeof(m)), 200);
	flushes = cs_svc_metric_sum(m, "cshield_flushes_total", NULL);
	recorded = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
	CS_TEST_SAY("%ld hits (an alert each): %lld flushes, %lld of %lld messages recorded before any interval flush; "
		    "the most pending seen: %lld bytes",
		    hits, flushes, (long long)recorded, (long long)total, peak);
	CS_TEST_ASSERT(flushes >= hits * 400 / 65536, "%lld flushes for %ld alerts of ~600 bytes", flushes, hits);
	CS_TEST_ASSERT(recorded >= total * 9 / 10, "only %lld of %lld recorded", (long long)recorded, (long long)total);
	CS_TEST_ASSERT(peak <= 65536 + 16384, "pending bytes %lld above the cap", peak);
	/* SIGTERM flushes the tail: exact */
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	CS_TEST_EQ_INT(cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL), total);
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, -1), "aggregates differ");
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
