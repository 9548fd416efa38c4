/*
 * 0122-retro: a retro-hunt with Kafka as the store, on the real broker and
 * Redis. Events are produced with Kafka times 10, 3 and 1 days ago; a live
 * ingest counts them with the live indicators; then `cshield-ingest --retro
 * new.txt --since <8 days ago> --until <2 days ago>` looks for two new
 * indicators: it must find exactly the hits of the events 3 days ago (none
 * from 10 days ago, before --since; none from yesterday, after --until; none
 * of the live indicators), count them apart from the live windows (P:retro,
 * retro_hits; the live counts unchanged), raise the cross-border escalation
 * they make (source "retro"), and, run again with the same arguments, resume
 * in its own consumer group and count nothing twice.
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "cs_test_svc.h"
#include "cs_keys.h"

static int produce(rd_kafka_t *rk, const char *topic, int64_t ts_s, const char *org, const char *dom, int n) {
	for (int i = 0; i < n; i++) {
		char ev[512], t[40];
		time_t s = (time_t)ts_s + i;
		struct tm tm;
		int len;
		gmtime_r(&s, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		len = snprintf(ev, sizeof(ev),
			       "{\"@timestamp\":\"%s\",\"organization\":{\"name\":\"%s\"},\"dns\":{\"question\":{\"name\":\"%s\"}}}",
			       t, org, dom);
		if (cs_svc_produce_key(rk, topic, 0, NULL, ev, (size_t)len, (int64_t)s * 1000))
			return -1;
	}
	return 0;
}

/* cshield-ingest --retro: its exit status; the log appended to logf. */
static int retro(const cs_svc_run_t *run, const char *file, int64_t since, int64_t until) {
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -c %s --retro %s --since %lld --until %lld 2>>%s",
		 cs_test_bindir(), run->conf, file, (long long)since, (long long)until, run->logf);
	return system(cmd);
}

int cs_test_0122(void) {
	cs_svc_run_t run;
	char reg[400], extra[1024], newf[400], key[256];
	redisContext *rc;
	rd_kafka_t *rk;
	int64_t now = (int64_t)time(NULL) / 60 * 60, d10 = now - 10 * 86400, d3 = now - 3 * 86400, d1 = now - 86400;
	long long live_events, live_hits;
	long produced = 0;
	pid_t pid;
	int rc_check;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	snprintf(reg, sizeof(reg), "%s/retro-participants.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(reg,
					  "{\"participants\": [\n"
					  " {\"id\": \"de-1\", \"name\": \"DE One\", \"kind\": \"SOC\", \"member_state\": \"DE\", \"sector\": \"finance\", \"tlp\": \"green\"},\n"
					  " {\"id\": \"fr-1\", \"name\": \"FR One\", \"kind\": \"CSIRT\", \"member_state\": \"FR\", \"sector\": \"energy\", \"tlp\": \"green\"},\n"
					  " {\"id\": \"lu-1\", \"name\": \"LU One\", \"kind\": \"CERT\", \"member_state\": \"LU\", \"sector\": \"government\", \"tlp\": \"amber\"}\n"
					  "]}\n"),
		       0);
	snprintf(extra, sizeof(extra),
		 "flush.interval.ms=50\nworkers=1\nparticipants.file=%s\nindicators.tlp=clear\n"
		 "aggregate.late.grace.s=0\naggregate.future.grace.s=0\nindicators.reload.interval.ms=0\n",
		 reg);
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "retro", extra), 0);
	snprintf(newf, sizeof(newf), "%s/retro-new.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(newf, "# indicators added today\nr1.retro-test.eu\nr2.retro-test.eu\n"), 0);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 1), 0);

	CS_TEST_ASSERT((rk = cs_svc_producer("lz4")), "producer");
	/* 10 days ago: before --since */
	CS_TEST_EQ_INT(produce(rk, run.topic, d10, "de-1", "r1.retro-test.eu", 5), 0);
	CS_TEST_EQ_INT(produce(rk, run.topic, d10, "fr-1", "r2.retro-test.eu", 5), 0);
	/* 3 days ago: in the period */
	CS_TEST_EQ_INT(produce(rk, run.topic, d3, "de-1", "r1.retro-test.eu", 3), 0);
	CS_TEST_EQ_INT(produce(rk, run.topic, d3 + 600, "fr-1", "r1.retro-test.eu", 2), 0);
	CS_TEST_EQ_INT(produce(rk, run.topic, d3 + 1200, "lu-1", "r2.retro-test.eu", 4), 0);
	CS_TEST_EQ_INT(produce(rk, run.topic, d3 + 1800, "de-1", "c2-0.evil-test.eu", 2), 0); /* a live indicator */
	CS_TEST_EQ_INT(produce(rk, run.topic, d3 + 2400, "fr-1", "benign.example.org", 1000), 0);
	/* yesterday: after --until */
	CS_TEST_EQ_INT(produce(rk, run.topic, d1, "de-1", "r1.retro-test.eu", 7), 0);
	CS_TEST_EQ_INT(produce(rk, run.topic, d1, "lu-1", "r1.retro-test.eu", 7), 0);
	produced = 5 + 5 + 3 + 2 + 4 + 2 + 1000 + 7 + 7;
	CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);

	/* the live run: the live indicators only */
	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 1, produced, pid, 60000), "lag never reached 0");
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	live_events = cs_svc_hget(rc, run.k_stats, CS_KEYS_STAT_EVENTS);
	live_hits = cs_svc_hget(rc, run.k_stats, CS_KEYS_STAT_HITS);
	CS_TEST_EQ_INT(live_events, produced);
	CS_TEST_EQ_INT(live_hits, 2);

	/* the retro-hunt, twice with the same arguments: the second resumes and finds nothing new */
	for (int round = 0; round < 2; round++) {
		CS_TEST_EQ_INT(retro(&run, newf, now - 8 * 86400, now - 2 * 86400), 0);
		CS_TEST_EQ_INT(cs_svc_hget(rc, run.k_stats, "retro_events"), 3 + 2 + 4 + 2 + 1000);
		CS_TEST_EQ_INT(cs_svc_hget(rc, run.k_stats, "retro_hits"), 3 + 2 + 4);
		/* the live counts as they were */
		CS_TEST_EQ_INT(cs_svc_hget(rc, run.k_stats, CS_KEYS_STAT_EVENTS), live_events);
		CS_TEST_EQ_INT(cs_svc_hget(rc, run.k_stats, CS_KEYS_STAT_HITS), live_hits);
		cs_keys_retro(key, sizeof(key), run.prefix, 60, d3);
		CS_TEST_EQ_INT(cs_svc_hget(rc, key, "green|r1.retro-test.eu"), 3);
		cs_keys_retro(key, sizeof(key), run.prefix, 60, d3 + 600);
		CS_TEST_EQ_INT(cs_svc_hget(rc, key, "green|r1.retro-test.eu"), 2);
		cs_keys_retro(key, sizeof(key), run.prefix, 60, d3 + 1200);
		CS_TEST_EQ_INT(cs_svc_hget(rc, key, "amber|r2.retro-test.eu"), 4);
		cs_keys_retro(key, sizeof(key), run.prefix, 60, d3 + 1800);
		CS_TEST_EQ_INT(cs_svc_hget(rc, key, "clear|c2-0.evil-test.eu"), -1);
		cs_keys_retro(key, sizeof(key), run.prefix, 60, d10);
		CS_TEST_EQ_INT(cs_svc_hget(rc, key, "green|r1.retro-test.eu"), -1);
		cs_keys_retro(key, sizeof(key), run.prefix, 60, d1);
		CS_TEST_EQ_INT(cs_svc_hget(rc, key, "green|r1.retro-test.eu"), -1);
		/* no live window holds them */
		cs_keys_win(key, sizeof(key), run.prefix, 60, d3);
		CS_TEST_EQ_INT(cs_svc_hget(rc, key, "r1.retro-test.eu"), -1);
		/* exactly the windows with retro hits are indexed */
		{
			redisReply *r;
			cs_keys_retro_wins(key, sizeof(key), run.prefix, 60);
			r = redisCommand(rc, "ZCARD %s", key);
			CS_TEST_ASSERT(r && r->type == REDIS_REPLY_INTEGER && r->integer == 3, "%s: %lld windows", key,
				       r ? r->integer : -1);
			freeReplyObject(r);
		}
		/* the escalation the old hits make: DE and FR within the period, once */
		{
			redisReply *r;
			json_t *j;
			cs_keys_escalations(key, sizeof(key), run.prefix, CS_TLP_GREEN);
			r = redisCommand(rc, "XRANGE %s - +", key);
			CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1, "%s: %zu escalations", key,
				       r ? r->elements : 0);
			CS_TEST_ASSERT((j = json_loads(r->element[0]->element[1]->element[5]->str, 0, NULL)), "JSON");
			CS_TEST_EQ_STR(json_string_value(json_object_get(json_object_get(j, "indicator"), "value")),
				       "r1.retro-test.eu");
			CS_TEST_EQ_STR(json_string_value(json_object_get(j, "source")), "retro");
			CS_TEST_EQ_INT(json_integer_value(json_object_get(j, "hits")), 5);
			CS_TEST_EQ_INT((long long)json_array_size(json_object_get(j, "member_states")), 2);
			json_decref(j);
			freeReplyObject(r);
			cs_keys_escalations(key, sizeof(key), run.prefix, CS_TLP_AMBER);
			r = redisCommand(rc, "XLEN %s", key);
			CS_TEST_EQ_INT(r->integer, 0); /* LU's r2 alone: one participant */
			freeReplyObject(r);
		}
		CS_TEST_ASSERT(cs_svc_log_count(run.logf, "retro-hunt") >= 2 * (round + 1), "no retro-hunt summary");
	}
	CS_TEST_ASSERT(cs_svc_log_count(run.logf, "1011 events read again, 9 retro hits, 1 escalations raised") == 1,
		       "the first hunt's summary");
	CS_TEST_ASSERT(cs_svc_log_count(run.logf, "0 events read again, 0 retro hits, 0 escalations raised") == 1,
		       "the second hunt's summary");
	/* bad arguments: a clear error, exit 2 */
	{
		char cmd[1024], out[2048];
		snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -c %s --retro %s 2>&1", cs_test_bindir(), run.conf, newf);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 2);
		CS_TEST_ASSERT(strstr(out, "--retro and --since go together"), "%s", out);
		snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -c %s --retro %s/none.txt --since 1d 2>&1",
			 cs_test_bindir(), run.conf, cs_test_tmpdir());
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 2);
		CS_TEST_ASSERT(strstr(out, "none.txt: No such file"), "%s", out);
		snprintf(cmd, sizeof(cmd), "%s/ingest/cshield-ingest -c %s --retro %s --since yesterday 2>&1",
			 cs_test_bindir(), run.conf, newf);
		CS_TEST_EQ_INT(cs_test_run(cmd, out, sizeof(out)), 2);
		CS_TEST_ASSERT(strstr(out, "--since \"yesterday\""), "%s", out);
	}
	redisFree(rc);
	return 0;
}
