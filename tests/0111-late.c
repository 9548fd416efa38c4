/*
 * 0111-late: events that arrive long after their own time. With
 * aggregate.late.grace.s=3600, an event whose time is more than an hour
 * before its Kafka timestamp is counted, with its hits, in the window of its
 * arrival and counted as late (P:stats late, P:dim "<tlp>|events|late:<day>",
 * the late counter of the metrics, "late":true in its alerts); the others in
 * their own window. The Kafka timestamps are set by the test, so the
 * expected windows are exact. A cshield-ingest restart mid-way replays part
 * of it: the classification, and so the counts, must not change. Events far
 * ahead of their arrival (the year 2100, a CEF rt in the year 3,170,843) are
 * counted in their arrival window too (P:stats future, "future":true).
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_common.h"
#include "cs_test_svc.h"
#include "cs_keys.h"

#define PARTS 2
#define EVENTS 6000

/* The alerts in the run's stream whose JSON says `what`; -1 if the stream cannot be read. */
static long alerts_saying(redisContext *rc, const cs_svc_run_t *run, const char *what) {
	long n = 0;
	for (int t = 0; t < CS_TLP__CNT; t++) {
		redisReply *r = redisCommand(rc, "XRANGE %s - +", run->k_alerts[t]);
		if (!r || r->type != REDIS_REPLY_ARRAY) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		for (size_t i = 0; i < r->elements; i++) {
			redisReply *f = r->element[i]->element[1];
			n += f->elements == 4 && strstr(f->element[3]->str, what) != NULL;
		}
		freeReplyObject(r);
	}
	return n;
}

int cs_test_0111(void) {
	cs_svc_run_t run;
	char key[CS_KEYS_MAX];
	int64_t total, t0, arrival, late_dim = 0, late_hits = 0, late_first;
	cs_svc_counts_t exp = {0};
	long malformed = 0, late = 0, late2 = 0;
	redisContext *rc;
	redisReply *r;
	pid_t pid;
	int rc_check;
	char day[32];

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "late",
				       "flush.interval.ms=100\nflush.max.events=500\nworkers=1\n"
				       "aggregate.late.grace.s=3600\nmetrics.listen=127.0.0.1:0\n"
				       "kafka.session.timeout.ms=6000\nkafka.heartbeat.interval.ms=500\n"),
		       0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	/* events over [t0, t0 + 5 min), arriving at t0 + 2.5 min + 1 h: about half are late */
	t0 = (int64_t)time(NULL) / 60 * 60 - 12 * 3600;
	if (t0 % 86400 > 86400 - 600)
		t0 -= 600; /* the late events' five minutes within one day: the late dimension is named by it
			    * (run just before noon or midnight UTC, this test used to count half of them) */
	arrival = (t0 + 150 + 3600) * 1000 + 250;
	CS_TEST_EQ_INT(cs_svc_work_produce_arriving(run.topic, PARTS, EVENTS / 2, 111, t0, arrival, 3600, &exp, &malformed,
						    &late),
		       0);
	/* and on time: arriving a minute after they happened (two hours later) */
	CS_TEST_EQ_INT(cs_svc_work_produce_arriving(run.topic, PARTS, EVENTS / 2, 112, t0 + 7200, (t0 + 7200 + 360) * 1000,
						    3600, &exp, &malformed, &late2),
		       0);
	CS_TEST_EQ_INT(late2, 0);
	CS_TEST_ASSERT(late > EVENTS / 8 && late < EVENTS / 2 - EVENTS / 8, "late events: %ld", late);
	CS_TEST_ASSERT((total = cs_svc_log_end(run.topic, PARTS)) >= 0, "watermarks");
	CS_TEST_EQ_INT(total, EVENTS);
	CS_TEST_SAY("produced %d events, %ld of them late, %ld malformed", EVENTS, late, malformed);

	/* a first run killed part-way, then a second to the end: a replay classifies alike */
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	cs_svc_wait_offsets(rc, &run, PARTS, total / 3, 60000);
	kill(pid, SIGKILL);
	cs_svc_wait(pid, 10000);
	r = redisCommand(rc, "HGET %s %s", run.k_stats, CS_KEYS_STAT_LATE); /* what the first run recorded */
	CS_TEST_ASSERT(r, "stats");
	late_first = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
	freeReplyObject(r);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 90000), "lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "aggregates differ");

	r = redisCommand(rc, "HMGET %s %s %s", run.k_stats, CS_KEYS_STAT_EVENTS, CS_KEYS_STAT_LATE);
	CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->str, "stats");
	CS_TEST_EQ_INT(strtoll(r->element[0]->str, NULL, 10), EVENTS);
	CS_TEST_EQ_INT(strtoll(r->element[1]->str, NULL, 10), late);
	freeReplyObject(r);

	/* the late dimension: all in the arrival window, named by the day they happened */
	cs_time_format_iso8601(t0, day, sizeof(day));
	day[10] = '\0';
	cs_keys_dim(key, sizeof(key), run.prefix, 60, arrival / 1000 / 60 * 60);
	r = redisCommand(rc, "HGETALL %s", key);
	CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY, "dim");
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		char want[64];
		snprintf(want, sizeof(want), "clear|events|late:%s", day);
		if (!strcmp(r->element[i]->str, want))
			late_dim += strtoll(r->element[i + 1]->str, NULL, 10);
		snprintf(want, sizeof(want), "|hits|late:%s", day); /* under the indicator's TLP */
		if (strstr(r->element[i]->str, want))
			late_hits += strtoll(r->element[i + 1]->str, NULL, 10);
	}
	freeReplyObject(r);
	CS_TEST_EQ_INT(late_dim, late);
	CS_TEST_ASSERT(late_hits > 0, "no late hits in the arrival window");

	/* the alerts of late hits say so: as many as the late hits */
	{
		CS_TEST_EQ_INT(alerts_saying(rc, &run, "\"late\":true"), late_hits);
	}
	{
		static char m[65536];
		int port = cs_svc_metrics_port(run.logf);
		CS_TEST_ASSERT(port > 0, "no metrics port in the log");
		CS_TEST_EQ_INT(cs_svc_http_get(port, "/metrics", m, sizeof(m)), 200);
		/* the second run counted what the first had not recorded */
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_events_late_total", NULL), late - late_first);
		CS_TEST_ASSERT(strstr(m, "cshield_pending_bytes{"), "pending bytes gauge");
	}
	/* far ahead of their arrival: the year 2100, and a CEF rt in the year 3,170,843; counted when
	 * they arrived (aggregate.future.grace.s, default an hour), never in windows no report reads */
	{
		int64_t arrival2 = (t0 + 3 * 3600) * 1000 + 500, w2 = arrival2 / 1000 / 60 * 60;
		rd_kafka_t *rk = cs_svc_producer("none");
		char buf[512];
		CS_TEST_ASSERT(rk, "producer");
		for (int i = 0; i < 20; i++) {
			int len = snprintf(buf, sizeof(buf),
					   "{\"timestamp\":\"2100-01-01T00:00:%02dZ\",\"event_type\":\"dns\",\"src_ip\":\"10.7.0.%d\","
					   "\"dns\":{\"rrname\":\"c2-7.evil-test.eu\"}}",
					   i, i);
			CS_TEST_EQ_INT(cs_svc_produce(rk, run.topic, i % PARTS, buf, (size_t)len, arrival2), 0);
			cs_svc_counts_add(&exp, w2, "c2-7.evil-test.eu", 1);
		}
		for (int i = 0; i < 10; i++) {
			int len = snprintf(buf, sizeof(buf),
					   "CEF:0|Vendor|IDS|1.0|100|C2 contact|5|rt=100000000000000000 src=10.7.1.%d dst=203.0.113.15",
					   i);
			CS_TEST_EQ_INT(cs_svc_produce(rk, run.topic, i % PARTS, buf, (size_t)len, arrival2), 0);
			cs_svc_counts_add(&exp, w2, "203.0.113.15", 1);
		}
		CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
		CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, PARTS, total + 30, pid, 60000), "lag never reached 0");
		CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "far-future events miscounted");
		r = redisCommand(rc, "HGET %s %s", run.k_stats, CS_KEYS_STAT_FUTURE);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING, "P:stats future");
		CS_TEST_EQ_INT(strtoll(r->str, NULL, 10), 30);
		freeReplyObject(r);
		CS_TEST_EQ_INT(alerts_saying(rc, &run, "\"future\":true"), 30);
	}
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
