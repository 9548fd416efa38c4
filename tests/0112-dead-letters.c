/*
 * 0112-dead-letters: malformed and oversized events interleaved with good
 * ones on the real broker. Every bad event, of every rejection reason the
 * decoder has (an oversized event, a zstd bomb, a frame that does not
 * decompress, an unknown content-encoding, bad UTF-8, a bad escape, nesting
 * too deep, a duplicate key, an oversized number, a truncated object, a bad
 * CEF line, a non-event, an empty message, and a bad line in the middle of an
 * NDJSON message), must be in the dead-letter topic exactly once with the
 * right reason code and its source partition, offset and event offset in
 * headers; P:rejects counts each reason exactly; the good events, before,
 * between and after, are counted exactly. Two hostile events that can be
 * read are kept, not dead-lettered (they were, and an attacker could hide a
 * C2 contact that way): a user agent longer than decode.max.string.bytes
 * (the value skipped, the destination counted, P:stats values_skipped) and
 * a DNS answer list over decode.max.observables ahead of the query and the
 * responder (both counted, P:stats observables_dropped).
 */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "cs_common.h"
#include "cs_test_svc.h"
#include "cs_keys.h"

#define ROUNDS 40 /* each round: every bad case once, good events around it */

typedef struct {
	const char *reason;   /* NULL: a hostile event that is kept */
	const char *encoding; /* content-encoding header, or NULL */
	size_t evoff;         /* the bad event's offset in its message */
} bad_case_t;

#define NCASES 16

typedef struct {
	int64_t off_reason[ROUNDS * (NCASES * 4 + 4)]; /* offset -> case index + 1, 0: good */
	size_t evoff[ROUNDS * (NCASES * 4 + 4)];
	long seen[ROUNDS * (NCASES * 4 + 4)];
	long bad, wrong;
	const char *topic;
	const bad_case_t *cases;
} dl_check_t;

static void on_dead_letter(void *opaque, const rd_kafka_message_t *m) {
	dl_check_t *c = opaque;
	char reason[64], topic[256], part[16], off[32], evoff[32];
	long o;
	if (!cs_svc_header(m, "cs-reason", reason, sizeof(reason)) || !cs_svc_header(m, "cs-source-topic", topic, sizeof(topic)) ||
	    !cs_svc_header(m, "cs-source-partition", part, sizeof(part)) || !cs_svc_header(m, "cs-source-offset", off, sizeof(off)) ||
	    !cs_svc_header(m, "cs-event-offset", evoff, sizeof(evoff)) || strcmp(topic, c->topic) || strcmp(part, "0")) {
		c->bad++;
		return;
	}
	o = atol(off);
	if (o < 0 || o >= (long)CS_ARRAY_SIZE(c->off_reason) || !c->off_reason[o] ||
	    strcmp(reason, c->cases[c->off_reason[o] - 1].reason) || (size_t)atol(evoff) != c->evoff[o]) {
		fprintf(stderr, "  dead letter at offset %ld: reason %s, event offset %s%s\n", o, reason, evoff,
			o >= 0 && o < (long)CS_ARRAY_SIZE(c->off_reason) && c->off_reason[o] ? "" : " (a good event!)");
		c->wrong++;
		return;
	}
	c->seen[o]++;
}

static int produce_h(rd_kafka_t *rk, const char *topic, const void *p, size_t len, const char *encoding) {
	rd_kafka_headers_t *h = rd_kafka_headers_new(1);
	rd_kafka_resp_err_t err;
	if (encoding)
		rd_kafka_header_add(h, "content-encoding", -1, encoding, -1);
	while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
					RD_KAFKA_V_VALUE((void *)p, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(rk, 100);
	if (err)
		rd_kafka_headers_destroy(h); /* on success the message owns them */
	return err ? -1 : 0;
}

int cs_test_0112(void) {
	static const bad_case_t cases[NCASES] = {
		{"too_large", NULL, 0},     {"decompressed_too_large", "zstd", 0}, {"decompress", "lz4", 0},
		{"unknown_encoding", "gzip", 0}, {"bad_utf8", NULL, 0},       {"bad_escape", NULL, 0},
		{"too_deep", NULL, 0},      {"duplicate_key", NULL, 0},      {"bad_number", NULL, 0},
		{"truncated", NULL, 0},     {"bad_cef", NULL, 0},            {"not_event", NULL, 0},
		{"empty", NULL, 0},         {"syntax", NULL, 0},             {NULL, NULL, 0},
		{NULL, NULL, 0},
	};
	static dl_check_t dc;
	static char big[5000], bomb[1 << 16], deep[200];
	cs_svc_run_t run;
	char dlq[200], ts[32], buf[6000], ndjson_good[300];
	cs_svc_counts_t exp = {0};
	int64_t t0, total, window, off = 0, nbad = 0, per_reason[NCASES] = {0};
	size_t bomb_len;
	redisContext *rc;
	rd_kafka_t *rk;
	pid_t pid;
	int rc_check;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_EQ_INT(cs_svc_run_init(&run, "dlq",
				       "flush.interval.ms=100\nworkers=1\ndlq.topic={topic}-dlq\n"
				       "decode.max.message.bytes=4096\ndecode.max.decompressed.bytes=1048576\n"
				       "decode.max.depth=32\ndecode.max.string.bytes=1024\ndecode.max.observables=8\n"),
		       0);
	snprintf(dlq, sizeof(dlq), "%s-dlq", run.topic);
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	CS_TEST_EQ_INT(cs_svc_topic_create(run.topic, 1), 0);
	CS_TEST_EQ_INT(cs_svc_topic_create(dlq, 1), 0);
	t0 = (int64_t)time(NULL) / 60 * 60 - 13 * 3600;
	window = t0;
	cs_time_format_iso8601(t0 + 7, ts, sizeof(ts));

	/* the bad payloads */
	{
		int n = snprintf(big, sizeof(big), "{\"timestamp\":\"%s\",\"event_type\":\"http\",\"http\":{\"url\":\"/", ts);
		memset(big + n, 'a', sizeof(big) - (size_t)n - 5);
		memcpy(big + sizeof(big) - 5, "\"}}\n", 5); /* 4,999 bytes: over decode.max.message.bytes */
		char *zeros = calloc(1, 8 << 20);
		CS_TEST_ASSERT(zeros, "calloc");
		zeros[0] = '{';
		bomb_len = ZSTD_compress(bomb, sizeof(bomb), zeros, 8 << 20, 19); /* 8 MiB from a few hundred bytes */
		free(zeros);
		CS_TEST_ASSERT(!ZSTD_isError(bomb_len) && bomb_len < 4096, "bomb: %zu bytes", bomb_len);
		memset(deep, '[', 100);
		memset(deep + 100, ']', 99);
	}
	snprintf(ndjson_good, sizeof(ndjson_good),
		 "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"dns\":{\"rrname\":\"c2-3.evil-test.eu\"}}\n", ts);

	CS_TEST_ASSERT((rk = cs_svc_producer("none")), "producer");
	for (int round = 0; round < ROUNDS; round++)
		for (int k = 0; k < NCASES; k++) {
			const char *p = buf, *enc = cases[k].encoding;
			size_t len;
			/* a good event first: an exact domain hit */
			len = (size_t)snprintf(buf, sizeof(buf),
					       "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"src_ip\":\"10.9.%d.%d\","
					       "\"dns\":{\"rrname\":\"c2-%d.evil-test.eu\"}}",
					       ts, round, k, k % 10);
			CS_TEST_EQ_INT(produce_h(rk, run.topic, buf, len, NULL), 0);
			{
				char dom[64];
				snprintf(dom, sizeof(dom), "c2-%d.evil-test.eu", k % 10);
				cs_svc_counts_add(&exp, window, dom, 1);
			}
			off++;
			dc.evoff[off] = 0;
			switch (k) {
			case 0: p = big, len = strlen(big); break;
			case 1: p = bomb, len = bomb_len; break;
			case 2: p = "not an lz4 frame at all", len = 23; break;
			case 3: len = (size_t)snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\"}", ts); break;
			case 4: len = (size_t)snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"dns\":{\"rrname\":\"\xff\xfe.evil\"}}", ts); break;
			case 5: len = (size_t)snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"dns\":{\"rrname\":\"a\\qb\"}}", ts); break;
			case 6: len = (size_t)snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"a\":%s}", ts, deep); break;
			case 7: len = (size_t)snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"src_ip\":\"1.2.3.4\",\"src_ip\":\"5.6.7.8\"}", ts); break;
			case 8: len = (size_t)snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"n\":1%080d}", ts, 0); break;
			case 9: len = (size_t)snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"dns\":{\"rrname\":\"x", ts); break;
			case 10: p = "CEF:0|Vendor|Product", len = 20; break;
			case 11: p = "hello world", len = 11; break;
			case 12: p = "", len = 0; break;
			case 13: /* NDJSON: a good event, a bad line, a good event: the bad one alone is dead-lettered */
				len = (size_t)snprintf(buf, sizeof(buf), "%s{\"timestamp\":\"%s\",\"a\":tru}\n%s", ndjson_good, ts,
						       ndjson_good);
				dc.evoff[off] = strlen(ndjson_good);
				cs_svc_counts_add(&exp, window, "c2-3.evil-test.eu", 2);
				break;
			case 14: { /* kept: a user agent over decode.max.string.bytes; the destination counts */
				char longs[1100];
				memset(longs, 'a', sizeof(longs) - 1);
				longs[sizeof(longs) - 1] = '\0';
				len = (size_t)snprintf(buf, sizeof(buf),
						       "{\"timestamp\":\"%s\",\"event_type\":\"http\",\"src_ip\":\"10.0.0.1\","
						       "\"dest_ip\":\"203.0.113.11\",\"http\":{\"http_user_agent\":\"%s\"}}",
						       ts, longs);
				cs_svc_counts_add(&exp, window, "203.0.113.11", 1);
				break;
			}
			case 15: /* kept: Zeek dns, twenty answers (over decode.max.observables) before the query */
				len = (size_t)snprintf(buf, sizeof(buf), "{\"ts\":%lld.5,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",\"answers\":[", (long long)t0 + 7);
				for (int a = 0; a < 20; a++)
					len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\"h%d.example.com\"", a ? "," : "", a);
				len += (size_t)snprintf(buf + len, sizeof(buf) - len,
							"],\"query\":\"c2-5.evil-test.eu\",\"id.resp_h\":\"203.0.113.12\"}");
				cs_svc_counts_add(&exp, window, "c2-5.evil-test.eu", 1);
				cs_svc_counts_add(&exp, window, "203.0.113.12", 1);
				break;
			}
			if (!cases[k].reason) { /* kept: a good event of its kind */
				CS_TEST_EQ_INT(produce_h(rk, run.topic, p, len, enc), 0);
				off++;
				continue;
			}
			CS_TEST_EQ_INT(produce_h(rk, run.topic, p, len, enc), 0);
			dc.off_reason[off] = k + 1;
			per_reason[k]++;
			nbad++;
			off++;
		}
	CS_TEST_EQ_INT(cs_svc_producer_close(rk), 0);
	total = off;
	CS_TEST_SAY("produced %lld messages to %s: %lld bad (%d reasons x %d), the rest good", (long long)total, run.topic,
		    (long long)nbad, NCASES, ROUNDS);

	CS_TEST_ASSERT((pid = cs_svc_ingest_start(run.conf, run.logf)) > 0, "spawn");
	CS_TEST_ASSERT(!cs_svc_wait_lag0(rc, &run, 1, total, pid, 90000), "lag never reached 0");
	CS_TEST_ASSERT(!cs_svc_check_counts(rc, &run, &exp, pid), "good events miscounted");
	for (int k = 0; k < NCASES; k++) {
		redisReply *r;
		if (!cases[k].reason)
			continue;
		r = redisCommand(rc, "HGET %s %s", run.k_rejects, cases[k].reason);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_STRING, "P:rejects has no %s", cases[k].reason);
		if (strtoll(r->str, NULL, 10) != per_reason[k]) {
			cs_svc_dump_log(run.logf);
			CS_TEST_FAIL("P:rejects %s = %s, expected %lld", cases[k].reason, r->str, (long long)per_reason[k]);
		}
		freeReplyObject(r);
	}
	/* what the kept events lost: one user agent per round; per round 13 answers that found the array
	 * full, and 2 answers that gave their slots up to the query and the responder */
	{
		redisReply *r = redisCommand(rc, "HMGET %s %s %s", run.k_stats, CS_KEYS_STAT_STRINGS_SKIPPED,
					     CS_KEYS_STAT_OBS_DROPPED);
		CS_TEST_ASSERT(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->str &&
				       r->element[1]->str,
			       "P:stats has no values_skipped or observables_dropped");
		CS_TEST_EQ_INT(strtoll(r->element[0]->str, NULL, 10), ROUNDS);
		CS_TEST_EQ_INT(strtoll(r->element[1]->str, NULL, 10), ROUNDS * 15);
		freeReplyObject(r);
	}
	dc.topic = run.topic;
	dc.cases = cases;
	CS_TEST_EQ_INT(cs_svc_consume(dlq, nbad + 1, 10000, on_dead_letter, &dc), nbad);
	CS_TEST_EQ_INT(dc.bad, 0);
	CS_TEST_EQ_INT(dc.wrong, 0);
	for (int64_t o = 0; o < total; o++)
		if (dc.off_reason[o])
			CS_TEST_ASSERT(dc.seen[o] == 1, "offset %lld (%s) dead-lettered %ld times", (long long)o,
				       cases[dc.off_reason[o] - 1].reason, dc.seen[o]);
	kill(pid, SIGTERM);
	CS_TEST_EQ_INT(cs_svc_wait(pid, 30000), 0);
	cs_svc_counts_free(&exp);
	redisFree(rc);
	return 0;
}
