/*
 * 0113-alerts-blocked: the alerts topic cannot be written. Its
 * max.message.bytes is set below the size of one alert, so the broker refuses
 * every delivery (MSG_SIZE_TOO_LARGE). A batch whose alerts are not all in
 * Kafka must not be recorded: no hit reaches Redis, the recorded offsets stop
 * short of the log end and do not move, the batch is replayed with a growing
 * pause. Once the topic takes alerts again (AlterConfigs), everything is
 * counted exactly once, the stream holds every alert once, and the topic holds
 * every alert with no repeat (nothing refused was half-written).
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

#define PARTS 2
#define EVENTS 4000

int cs_test_0113(void) {
	cs_svc_run_t run;
	char alerts[200];
	int64_t total, t0, off_a, off_b;
	cs_svc_counts_t exp = {0};
	long malformed = 0, want;
	redisContext *rc;
	redisReply *r;
	pid_t pid;
	int rc_check;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "alertsblk",
				       "flush.interval.ms=100\nworkers=1\nalerts.topic={topic}-alerts\n"
				       "dlq.timeout.ms=3000\nmetrics.listen=127.0.0.1:0\n"),
		       0);
	snprintf(alerts, sizeof(alerts), "%s-alerts", run.topic);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create_conf(alerts, 1, "max.message.bytes", "100"), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 14 * 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 131, t0, &exp, &malformed), 0);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	want = (long)cs_svc_counts_hits(&exp);

	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "deliveries failed", 2, 60000, pid), 0); /* refused, and refused again */
	off_a = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
	cs_svc_sleep_ms(4000);
	off_b = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, NULL);
	CS_TEST_SAY("alerts refused: offsets recorded %lld, 4 s later %lld, of %lld", (long long)off_a, (long long)off_b,
		    (long long)total);
	CS_TEST_ASSERT(off_b < total, "offsets reached the log end with no alert delivered");
	CS_TEST_EQ_INT(off_b, off_a);
	r = redisCommand(rc, "HGET %s %s", run.k_stats, CS_KEYS_STAT_HITS);
	CS_TEST_ASSERT(r && r->type == REDIS_REPLY_NIL, "hits recorded although their alerts were refused");
	freeReplyObject(r);
	CS_TEST_ASSERT(cs_svc_alerts_len(rc, &run) == 0, "alert stream written");
	{
		static char m[65536];
		int port = cs_svc_metrics_port(run.logf);
		CS_TEST_ASSERT(port > 0, "no metrics port in the log");
		CS_TEST_EQ_INT(cs_svc_http_get(port, "/metrics", m, sizeof(m)), 200);
		CS_TEST_ASSERT(cs_svc_metric_sum(m, "cshield_flush_produce_failures_total", NULL) >= 2, "replays not counted");
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_hits_total", NULL), 0);
	}

	/* the topic takes alerts again */
	CS_TEST_EQ_INT(cs_svc_topic_config(alerts, "max.message.bytes", "1048588"), 0);
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 90000), "lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "aggregates differ");
	CS_TEST_ASSERT(!cs_svc_check_alert_stream(rc, &run, &exp), "alert stream");
	CS_TEST_ASSERT(!cs_svc_check_alert_topic(alerts, &exp, want, 1), "alerts topic");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
