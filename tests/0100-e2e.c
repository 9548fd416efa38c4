/*
 * 0100-e2e: the first slice end to end on the real broker and redis-server.
 * Produce a known workload (4 partitions, lz4 and zstd), run cshield-ingest
 * until its offsets in Redis reach the log end, then the hit counts in Redis
 * must equal, exactly, the counts this test computed from what it produced.
 * SIGTERM: exit 0, Kafka committed offsets at the log end.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

#define PARTS 4
#define EVENTS 12000

typedef struct {
	const char *topic;
	long bad;       /* dead letters without the expected headers */
	char seen[PARTS][EVENTS / PARTS + 1];
	long dup;
} dlq_check_t;

static void on_dead_letter(void *opaque, const rd_kafka_message_t *m) {
	dlq_check_t *c = opaque;
	char reason[64], topic[256], part[16], off[32];
	if (!cs_svc_header(m, "cs-reason", reason, sizeof(reason)) || strcmp(reason, "truncated") ||
	    !cs_svc_header(m, "cs-source-topic", topic, sizeof(topic)) || strcmp(topic, c->topic) ||
	    !cs_svc_header(m, "cs-source-partition", part, sizeof(part)) || !cs_svc_header(m, "cs-source-offset", off, sizeof(off)) ||
	    atoi(part) < 0 || atoi(part) >= PARTS || atol(off) < 0 || atol(off) > EVENTS / PARTS ||
	    m->len < 10 || memcmp(m->payload, "{\"timestamp\"", 12)) {
		c->bad++;
		return;
	}
	if (c->seen[atoi(part)][atol(off)]++)
		c->dup++;
}

int cs_test_0100(void) {
	char dlq[160], alerts[160], buf[2048];
	cs_svc_run_t run;
	static dlq_check_t dc;
	int64_t hw[PARTS], off[PARTS], total = 0, t0, suppressed = 0;
	cs_svc_counts_t exp = {0}, got = {0};
	long malformed = 0;
	redisContext *rc;
	redisReply *r;
	pid_t pid;
	int rc_check, st;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "e2e",
				       "flush.interval.ms=200\nworkers=2\ndlq.topic={topic}-dlq\nwarninglists.dir={tmp}/wl\n"
				       "alerts.topic={topic}-alerts\nmetrics.listen=127.0.0.1:0\n"),
		       0);
	snprintf(dlq, sizeof(dlq), "%s-dlq", run.topic);
	/* a MISP warning list naming one of the indicators: its hits are suppressed */
	{
		char wl[600];
		snprintf(wl, sizeof(wl), "mkdir -p %s/wl/lists/test-benign", cs_test_tmpdir());
		CS_TEST_EQ_INT(system(wl), 0);
		snprintf(wl, sizeof(wl), "%s/wl/lists/test-benign/list.json", cs_test_tmpdir());
		CS_TEST_EQ_INT(cs_test_write_file(wl, "{\"name\":\"test benign\",\"type\":\"cidr\",\"list\":"
						      "[\"203.0.113.10/32\"],\"matching_attributes\":[\"ip-dst\"]}"), 0);
	}
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");

	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(dlq, 1), 0);
	snprintf(alerts, sizeof(alerts), "%s-alerts", run.topic);
	CS_TEST_EQ_INT(cs_svc_topic_create(alerts, 1), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 3600;
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, EVENTS, 7, t0, &exp, &malformed), 0);
	CS_TEST_EQ_INT(cs_svc_watermarks(run.topic, PARTS, hw), 0);
	for (int p = 0; p < PARTS; p++)
		total += hw[p];
	CS_TEST_EQ_INT(total, EVENTS);
	/* what the warning list suppresses leaves the expected windows */
	for (size_t i = 0; i < exp.cnt;)
		if (!strcmp(exp.v[i].ind, "203.0.113.10")) {
			suppressed += exp.v[i].hits;
			exp.v[i] = exp.v[--exp.cnt];
		} else {
			i++;
		}
	CS_TEST_ASSERT(suppressed > 0, "the workload never hit the warning-listed indicator");
	CS_TEST_SAY("produced %d events (%ld malformed) to %s, %zu expected aggregates, %lld hits to suppress",
		    EVENTS, malformed, run.topic, exp.cnt, (long long)suppressed);

	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	/* until the offsets recorded in Redis reach the log end (lag 0) */
	for (int waited = 0;; waited += 100) {
		int64_t sum = cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, off);
		if (sum == total)
			break;
		if (waited > 90000 || waitpid(pid, &st, WNOHANG) == pid) {
			cs_svc_dump_log(run.logf);
			kill(pid, SIGKILL);
			CS_TEST_FAIL("Redis offsets at %lld of %lld", (long long)sum, (long long)total);
		}
		cs_svc_sleep_ms(100);
	}
	for (int p = 0; p < PARTS; p++)
		CS_TEST_EQ_INT(off[p], hw[p]);

	CS_TEST_EQ_INT(cs_svc_counts_from_redis(rc, run.prefix, 60, &got), 0);
	if (cs_svc_counts_compare(&exp, &got)) {
		cs_svc_dump_log(run.logf);
		kill(pid, SIGKILL);
		CS_TEST_FAIL("aggregates in Redis differ from the produced workload");
	}
	r = redisCommand(rc, "HGET %s %s", run.k_stats, CS_KEYS_STAT_EVENTS);
	CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING, "stats");
	CS_TEST_EQ_INT(strtoll(r->str, NULL, 10), EVENTS);
	freeReplyObject(r);
	r = redisCommand(rc, "HGET %s truncated", run.k_rejects); /* the malformed events are cut short */
	CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING, "rejects");
	CS_TEST_EQ_INT(strtoll(r->str, NULL, 10), malformed);
	freeReplyObject(r);

	r = redisCommand(rc, "HGET %s %s", run.k_suppressed, "test benign");
	CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING, "suppressed");
	CS_TEST_EQ_INT(strtoll(r->str, NULL, 10), suppressed);
	freeReplyObject(r);

	/* every malformed event is in the dead-letter topic, once, with its reason and source */
	dc.topic = run.topic;
	CS_TEST_EQ_INT(cs_svc_consume(dlq, malformed + 1, 8000, on_dead_letter, &dc), malformed);
	CS_TEST_EQ_INT(dc.bad, 0);
	CS_TEST_EQ_INT(dc.dup, 0);

	/* one alert per counted hit: in the Redis stream exactly once, and in the alerts topic */
	{
		long want = (long)cs_svc_counts_hits(&exp);
		CS_TEST_ASSERT(!cs_svc_check_alert_stream(rc, &run, &exp), "alert stream");
		CS_TEST_ASSERT(!cs_svc_check_alert_topic(alerts, &exp, want, 1), "alerts topic");
		/* and each counted indicator's record, a field each, for the report */
		for (size_t i = 0; i < exp.cnt; i++) {
			char key[CS_KEYS_MAX];
			cs_keys_ind(key, sizeof(key), run.prefix, exp.v[i].ind);
			r = redisCommand(rc, "HMGET %s %s %s %s %s", key, CS_KEYS_IND_TLP, CS_KEYS_IND_TYPE, CS_KEYS_IND_SOURCE,
					 CS_KEYS_IND_ID);
			CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->elements == 4, "%s", key);
			CS_TEST_ASSERT(cs_test_streq(r->element[0]->str, "amber") && r->element[1]->str &&
					       (strchr(exp.v[i].ind, '/') ? cs_test_streq(r->element[1]->str, "url")
						: strspn(exp.v[i].ind, "0123456789.") == strlen(exp.v[i].ind)
							? cs_test_streq(r->element[1]->str, "ipv4")
							: cs_test_streq(r->element[1]->str, "domain")) &&
					       cs_test_streq(r->element[2]->str, "indicators.txt") && r->element[3]->str &&
					       !strncmp(r->element[3]->str, run.ind, strlen(run.ind)) &&
					       r->element[3]->str[strlen(run.ind)] == ':',
				       "%s: tlp %s, type %s, source %s, id %s", key, cs_test_str(r->element[0]->str),
				       cs_test_str(r->element[1]->str), cs_test_str(r->element[2]->str),
				       cs_test_str(r->element[3]->str));
			freeReplyObject(r);
		}
	}

	/* the metrics endpoint tells the same story */
	{
		static char m[65536];
		long long want = cs_svc_counts_hits(&exp);
		int port = cs_svc_metrics_port(run.logf);
		CS_TEST_ASSERT(port > 0, "no metrics port in the log");
		CS_TEST_EQ_INT(cs_svc_http_get(port, "/metrics", m, sizeof(m)), 200);
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_events_total", NULL), EVENTS);
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_hits_total", NULL), want);
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_alerts_total", NULL), want);
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_hits_suppressed_total", NULL), suppressed);
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_events_rejected_total", "reason=\"truncated\""), malformed);
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_messages_consumed_total", NULL), total);
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_partitions_assigned", NULL), PARTS);
		CS_TEST_EQ_INT(cs_svc_metric_sum(m, "cshield_indicator_set_version", NULL), 2); /* 2 workers on version 1 */
		{
			/* most events read along learned shapes; the first two of each shape by the full scan */
			long long walked = cs_svc_metric_sum(m, "cshield_decode_shape_walked_total", NULL),
				  missed = cs_svc_metric_sum(m, "cshield_decode_shape_missed_total", NULL);
			CS_TEST_ASSERT(walked > EVENTS / 2 && missed > 0, "shapes: walked %lld, missed %lld", walked, missed);
		}
		CS_TEST_ASSERT(cs_svc_metric_sum(m, "cshield_flush_duration_ms_count", NULL) > 0, "no flush in the histogram");
		CS_TEST_ASSERT(strstr(m, "cshield_flush_duration_ms_bucket{le=\"+Inf\"}"), "histogram");
		CS_TEST_EQ_INT(cs_svc_http_get(port, "/health", m, sizeof(m)), 200);
		CS_TEST_ASSERT(strstr(m, "{\"status\":\"ok\""), "%s", m);
		CS_TEST_EQ_INT(cs_svc_http_get(port, "/nothing", m, sizeof(m)), 404);
	}

	/* the report shows the same total */
	{
		char cmd[1024];
		FILE *p;
		long long want = cs_svc_counts_hits(&exp);
		snprintf(cmd, sizeof(cmd), "%s/report/cshield-report --redis %s --prefix %s --tlp amber | tail -1",
			 cs_test_bindir(), getenv("CS_REDIS_ADDR"), run.prefix);
		CS_TEST_ASSERT((p = popen(cmd, "r")), "popen");
		CS_TEST_ASSERT(fgets(buf, sizeof(buf), p), "no report output");
		pclose(p);
		snprintf(cmd, sizeof(cmd), "%zu rows, %lld hits in range", exp.cnt, want);
		CS_TEST_ASSERT(strstr(buf, cmd), "report: \"%s\", expected \"%s\"", buf, cmd);
		/* the public report: the workload's indicators are unmarked (TLP:AMBER), all withheld */
		snprintf(cmd, sizeof(cmd), "%s/report/cshield-report --redis %s --prefix %s | head -1",
			 cs_test_bindir(), getenv("CS_REDIS_ADDR"), run.prefix);
		CS_TEST_ASSERT((p = popen(cmd, "r")), "popen");
		CS_TEST_ASSERT(fgets(buf, sizeof(buf), p), "no report output");
		pclose(p);
		snprintf(cmd, sizeof(cmd), "TLP:CLEAR report: %zu rows (%lld hits) marked above TLP:CLEAR withheld", exp.cnt,
			 want);
		CS_TEST_ASSERT(strstr(buf, cmd), "public report: \"%s\", expected \"%s\"", buf, cmd);
	}

	/* SIGTERM: drain, flush, commit, exit 0 */
	kill(pid, SIGTERM);
	st = cs_svc_wait(pid, 30000);
	if (st != 0) {
		cs_svc_dump_log(run.logf);
		if (st == -1)
			kill(pid, SIGKILL);
		CS_TEST_FAIL("cshield-ingest exit status %d after SIGTERM", st);
	}
	CS_TEST_EQ_INT(cs_svc_committed(run.group, run.topic, PARTS, off), 0);
	for (int p = 0; p < PARTS; p++)
		CS_TEST_ASSERT(off[p] == hw[p], "partition %d committed %lld, log end %lld", p,
			       (long long)off[p], (long long)hw[p]);

	cs_svc_counts_free(&exp);
	cs_svc_counts_free(&got);
	redisFree(rc);
	return 0;
}
