/*
 * 0116-hostile-redis: Redis holds what cshield did not write, and exactly
 * once must hold all the same.
 *
 * 1. In the key space (one ingest, one phase each): a string at P:stats; a
 *    non-integer P:stats events; P:stats events one step from 2^63; a list
 *    at P:wins:60 (another application sharing the prefix). Each time the
 *    flush is refused with an error that names the key, nothing at all is
 *    written (offsets, alerts, counts, the stream), /health answers 503 with
 *    the key; once the key is mended, every count is exact and every alert
 *    is in the stream once.
 * 2. A recorded offset that is not one ("-5" for partition 1, " 100" for
 *    partition 2): refused when read, naming the field; those partitions are
 *    not consumed and their fields stay as they were, while partition 0 is
 *    counted exactly (the livelock of every flush STALE is gone); once the
 *    fields are deleted, everything is counted exactly.
 * 3. A recorded offset beyond the partition's log (a re-created topic):
 *    offsets.out.of.range=hold holds the partition, says so with the field,
 *    /health 503, nothing counted, the field untouched; a restart with
 *    offsets.out.of.range=reset counts the whole log exactly and records its
 *    end.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cs_test_svc.h"
#include "cs_keys.h"
#include "cs_common.h"

#define PARTS 3

static long long cs__int(redisContext *rc, const char *fmt, const char *a, const char *b) {
	redisReply *r = redisCommand(rc, fmt, a, b);
	long long v = -1;
	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r && r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	if (r)
		freeReplyObject(r);
	return v;
}

static int cs__cmd(redisContext *rc, const char *fmt, const char *a, const char *b) {
	redisReply *r = redisCommand(rc, fmt, a, b);
	int ok = r && r->type != REDIS_REPLY_ERROR;
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* /health: its status, and its body must contain `needle` (NULL: anything). */
static int cs__health(int port, const char *needle) {
	static char buf[8192];
	int st = cs_svc_http_get(port, "/health", buf, sizeof(buf));
	if (needle && !strstr(buf, needle)) {
		CS_TEST_SAY("/health (%d) does not say \"%s\": %s", st, needle, buf);
		return -1;
	}
	return st;
}

/* Everything the run wrote: offsets, stream, windows, stats hits. */
typedef struct {
	long long off, alerts, wins, hits;
} cs__snap_t;

static void cs__snap(redisContext *rc, const cs_svc_run_t *run, cs__snap_t *s) {
	char wins[256];
	cs_keys_wins(wins, sizeof(wins), run->prefix, 60);
	s->off = cs_svc_redis_offsets(rc, run->prefix, run->group, run->topic, PARTS, NULL);
	s->alerts = cs_svc_alerts_len(rc, run);
	s->wins = cs__int(rc, "EXISTS %s%s", wins, "");
	s->hits = cs__int(rc, "HGET %s %s", run->k_stats, CS_KEYS_STAT_HITS);
}

/* One phase of part 1: break, produce, see it refused and nothing written, mend, see it exact. */
static int cs__phase(redisContext *rc, const cs_svc_run_t *run, pid_t pid, int port, const char *what,
		     const char *break_fmt, const char *k, const char *v, const char *mend_fmt, const char *mk,
		     const char *mv, const char *names, unsigned seed, int64_t t0, cs_svc_counts_t *exp, int64_t *total) {
	cs__snap_t before, after;
	long malformed = 0;
	int refusals = cs_svc_log_count(run->logf, "REFUSED");
	CS_TEST_SAY("%s", what);
	CS_TEST_EQ_INT(cs__cmd(rc, break_fmt, k, v), 0);
	cs__snap(rc, run, &before);
	CS_TEST_EQ_INT(cs_svc_work_produce(run->topic, PARTS, 600, seed, t0, exp, &malformed), 0);
	*total += 600;
	/* refused, twice (a retry does not get past it either), naming the key */
	CS_TEST_EQ_INT(cs_svc_wait_log(run->logf, "REFUSED", refusals + 2, 30000, pid), 0);
	CS_TEST_ASSERT(cs_svc_log_count(run->logf, names) >= 1, "no log line names \"%s\"", names);
	CS_TEST_EQ_INT(cs__health(port, names), 503);
	cs__snap(rc, run, &after);
	CS_TEST_ASSERT(!memcmp(&before, &after, sizeof(before)),
		       "written although refused: offsets %lld -> %lld, alerts %lld -> %lld, hits %lld -> %lld", before.off,
		       after.off, before.alerts, after.alerts, before.hits, after.hits);
	CS_TEST_EQ_INT(cs__cmd(rc, mend_fmt, mk, mv), 0);
	CS_TEST_EQ_INT(cs_svc_wait_lag0(rc, run, PARTS, *total, pid, 60000), 0);
	CS_TEST_EQ_INT(cs_svc_check_counts(rc, run, exp, pid), 0);
	CS_TEST_EQ_INT(cs_svc_check_alert_stream(rc, run, exp), 0);
	for (int waited = 0; cs__health(port, NULL) != 200 && waited < 10000; waited += 100)
		cs_svc_sleep_ms(100);
	CS_TEST_EQ_INT(cs__health(port, "\"ok\""), 200);
	return 0;
}

static int cs__part1(redisContext *rc) {
	cs_svc_run_t run;
	cs_svc_counts_t exp = {0};
	int64_t total = 0, t0 = (int64_t)time(NULL) / 60 * 60 - 4 * 3600;
	char wins[256], field[64];
	long malformed = 0;
	int port;
	pid_t pid;

	CS_TEST_EQ_INT(cs_svc_run_init(&run, "hredis", "metrics.listen=127.0.0.1:0\nflush.interval.ms=100\n"), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	cs_keys_wins(wins, sizeof(wins), run.prefix, 60);
	/* a first batch, counted normally */
	CS_TEST_EQ_INT(cs_svc_work_produce(run.topic, PARTS, 300, 1160, t0, &exp, &malformed), 0);
	total = 300;
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "metrics on", 1, 20000, pid), 0);
	CS_TEST_ASSERT((port = cs_svc_metrics_port(run.logf)) > 0, "metrics port");
	CS_TEST_EQ_INT(cs_svc_wait_lag0(rc, &run, PARTS, total, pid, 60000), 0);
	CS_TEST_EQ_INT(cs_svc_check_counts(rc, &run, &exp, pid), 0);

	snprintf(field, sizeof(field), "%s", CS_KEYS_STAT_EVENTS);
	{
		char saved[256];
		snprintf(saved, sizeof(saved), "%s-saved", run.k_stats);
		/* the hash moved aside, a string in its place */
		CS_TEST_EQ_INT(cs__cmd(rc, "RENAME %s %s", run.k_stats, saved), 0);
		if (cs__phase(rc, &run, pid, port, "a string at P:stats", "SET %s %s", run.k_stats, "not a hash",
			      "RENAME %s %s", saved, run.k_stats, run.k_stats, 1162, t0, &exp, &total))
			return 1;
	}
	{
		long long events = cs__int(rc, "HGET %s %s", run.k_stats, field);
		char keep[32];
		snprintf(keep, sizeof(keep), "%lld", events);
		if (cs__phase(rc, &run, pid, port, "a non-integer count at P:stats events", "HSET %s events %s", run.k_stats,
			      "12abc", "HSET %s events %s", run.k_stats, keep, "field events holds", 1163, t0, &exp, &total))
			return 1;
		events = cs__int(rc, "HGET %s %s", run.k_stats, field);
		snprintf(keep, sizeof(keep), "%lld", events);
		if (cs__phase(rc, &run, pid, port, "P:stats events one step from 2^63", "HSET %s events %s", run.k_stats,
			      "9223372036854775800", "HSET %s events %s", run.k_stats, keep, "64 bits", 1164, t0, &exp,
			      &total))
			return 1;
	}
	{
		char saved[300];
		snprintf(saved, sizeof(saved), "%s-saved", wins);
		CS_TEST_EQ_INT(cs__cmd(rc, "RENAME %s %s", wins, saved), 0);
		if (cs__phase(rc, &run, pid, port, "another application's list at P:wins:60", "RPUSH %s %s", wins,
			      "someone else's", "RENAME %s %s", saved, wins, wins, 1165, t0, &exp, &total)) {
			return 1;
		}
	}
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 60000), 0);
	cs_svc_counts_free(&exp);
	return 0;
}

/* Produces n events that each hit c2-<k>.evil-test.eu to one partition; their hits into exp. */
static int cs__produce_hits(const char *topic, int part, int n, int64_t t0, int k, cs_svc_counts_t *exp) {
	rd_kafka_t *rk = cs_svc_producer("none");
	char buf[512], dom[64], ts[32];
	if (!rk)
		return -1;
	snprintf(dom, sizeof(dom), "c2-%d.evil-test.eu", k);
	cs_time_format_iso8601(t0, ts, sizeof(ts));
	for (int i = 0; i < n; i++) {
		int len = snprintf(buf, sizeof(buf),
				   "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"src_ip\":\"10.9.0.%d\",\"dns\":{\"rrname\":\"%s\"}}",
				   ts, i % 250, dom);
		if (cs_svc_produce(rk, topic, part, buf, (size_t)len, 0))
			return -1;
		if (exp)
			cs_svc_counts_add(exp, t0 / 60 * 60, dom, 1);
	}
	return cs_svc_producer_close(rk);
}

static int cs__part2(redisContext *rc) {
	cs_svc_run_t run;
	cs_svc_counts_t exp = {0}, exp_all = {0};
	int64_t t0 = (int64_t)time(NULL) / 60 * 60 - 5 * 3600, per[PARTS];
	char f1[256], f2[256];
	int port;
	pid_t pid;

	CS_TEST_SAY("recorded offsets that are not offsets");
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "hoff", "metrics.listen=127.0.0.1:0\nflush.interval.ms=100\n"), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, PARTS), 0);
	cs_keys_off_field(f1, sizeof(f1), run.topic, 1);
	cs_keys_off_field(f2, sizeof(f2), run.topic, 2);
	{
		redisReply *r = redisCommand(rc, "HSET %s %s %s %s %s", run.k_off, f1, "-5", f2, " 100");
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_INTEGER, "HSET");
		freeReplyObject(r);
	}
	CS_TEST_EQ_INT(cs__produce_hits(run.topic, 0, 400, t0, 1, &exp), 0);
	CS_TEST_EQ_INT(cs__produce_hits(run.topic, 1, 70, t0, 2, &exp_all), 0);
	CS_TEST_EQ_INT(cs__produce_hits(run.topic, 2, 30, t0, 3, &exp_all), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "metrics on", 1, 20000, pid), 0);
	CS_TEST_ASSERT((port = cs_svc_metrics_port(run.logf)) > 0, "metrics port");
	/* partition 0 is counted, the other two wait and say why */
	for (int waited = 0; waited < 60000; waited += 100) {
		cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, PARTS, per);
		if (per[0] == 400)
			break;
		cs_svc_sleep_ms(100);
	}
	CS_TEST_EQ_INT(per[0], 400);
	CS_TEST_EQ_INT(cs_svc_check_counts(rc, &run, &exp, pid), 0);
	CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "not an offset", 1, 20000, pid), 0);
	CS_TEST_ASSERT(cs_svc_log_count(run.logf, f1) >= 1 || cs_svc_log_count(run.logf, f2) >= 1,
		       "the log does not name the field");
	CS_TEST_EQ_INT(cs__health(port, "not an offset"), 503);
	{
		redisReply *r = redisCommand(rc, "HMGET %s %s %s", run.k_off, f1, f2);
		CS_TEST_ASSERT(r && r->elements == 2 && cs_test_streq(r->element[0]->str, "-5") &&
				       cs_test_streq(r->element[1]->str, " 100"),
			       "the malformed fields were overwritten");
		freeReplyObject(r);
	}
	/* mended (deleted): both counted from the beginning (auto.offset.reset=earliest) */
	CS_TEST_EQ_INT(cs__cmd(rc, "HDEL %s %s", run.k_off, f1), 0);
	CS_TEST_EQ_INT(cs__cmd(rc, "HDEL %s %s", run.k_off, f2), 0);
	for (size_t i = 0; i < exp_all.cnt; i++)
		cs_svc_counts_add(&exp, exp_all.v[i].window, exp_all.v[i].ind, exp_all.v[i].hits);
	CS_TEST_EQ_INT(cs_svc_wait_lag0(rc, &run, PARTS, 500, pid, 90000), 0);
	CS_TEST_EQ_INT(cs_svc_check_counts(rc, &run, &exp, pid), 0);
	for (int waited = 0; cs__health(port, NULL) != 200 && waited < 10000; waited += 100)
		cs_svc_sleep_ms(100);
	CS_TEST_EQ_INT(cs__health(port, "\"ok\""), 200);
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 60000), 0);
	cs_svc_counts_free(&exp);
	cs_svc_counts_free(&exp_all);
	return 0;
}

static int cs__part3(redisContext *rc) {
	cs_svc_run_t run;
	cs_svc_counts_t exp = {0}, none = {0};
	int64_t t0 = (int64_t)time(NULL) / 60 * 60 - 6 * 3600, per[1];
	char f0[256], cmd[1200];
	int port;
	pid_t pid;

	CS_TEST_SAY("a recorded offset beyond the partition's log");
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "hbeyond", "metrics.listen=127.0.0.1:0\nflush.interval.ms=100\n"), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 1), 0);
	cs_keys_off_field(f0, sizeof(f0), run.topic, 0);
	/* what a re-created topic looks like: Redis remembers 72,119, the log has 250 */
	CS_TEST_EQ_INT(cs__cmd(rc, "HSET %s %s 72119", run.k_off, f0), 0);
	CS_TEST_EQ_INT(cs__produce_hits(run.topic, 0, 250, t0, 4, &exp), 0);
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "metrics on", 1, 20000, pid), 0);
	CS_TEST_ASSERT((port = cs_svc_metrics_port(run.logf)) > 0, "metrics port");
	CS_TEST_EQ_INT(cs_svc_wait_log(run.logf, "lies beyond the partition", 1, 30000, pid), 0);
	CS_TEST_ASSERT(cs_svc_log_count(run.logf, "Holding the partition") >= 1, "not held");
	CS_TEST_EQ_INT(cs__health(port, "held"), 503);
	cs_svc_sleep_ms(1500); /* time to count, had it been counted */
	CS_TEST_EQ_INT(cs_svc_redis_offsets(rc, run.prefix, run.group, run.topic, 1, per), 72119);
	CS_TEST_EQ_INT(cs_svc_check_counts(rc, &run, &none, pid), 0);
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 60000), 0);

	/* offsets.out.of.range=reset: the log as it is, counted whole, its end recorded */
	snprintf(cmd, sizeof(cmd), "offsets.out.of.range=reset\n");
	{
		FILE *fp = fopen(run.conf, "a");
		CS_TEST_ASSERT(fp && fputs(cmd, fp) >= 0 && !fclose(fp), "conf");
	}
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_EQ_INT(cs_svc_wait_lag0(rc, &run, 1, 250, pid, 60000), 0);
	CS_TEST_EQ_INT(cs_svc_check_counts(rc, &run, &exp, pid), 0);
	CS_TEST_ASSERT(cs_svc_log_count(run.logf, "Counting it from there") >= 1, "the reset was not said");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 60000), 0);
	cs_svc_counts_free(&exp);
	return 0;
}

int cs_test_0116(void) {
	redisContext *rc;
	int rc_check;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	if (cs__part1(rc) || cs__part2(rc) || cs__part3(rc)) {
		redisFree(rc);
		return 1;
	}
	redisFree(rc);
	return 0;
}
