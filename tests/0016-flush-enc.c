/*
 * 0016-flush-enc: the flush call's layout, without Redis. A batch with hits
 * in two windows and under two TLPs, dimension counts, distinct sources,
 * rejections, late events, alerts and three partitions (one that did not
 * move) is encoded; a reader written from the layout's documentation
 * (ingest/cs_ingest_flush.lua) walks KEYS and ARGV and must find exactly the
 * records the batch implies, every key once with its kind, every key index
 * valid, nothing left over. The key names come from common/cs_keys.h, checked
 * here against literal names so the schema of docs/REDIS.md cannot drift.
 */
#include "cs_test.h"
#include "cs_ingest_flush.h"
#include "cs_keys.h"

#define W0 1795922040
#define W1 (W0 + 60)

typedef struct {
	char **v;
	size_t n;
} cs__recs_t;

static void cs__recs_add(cs__recs_t *r, const char *s) {
	r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n++] = strdup(s);
}

/* Removes one record equal to s; 0 if it was there. */
static int cs__recs_take(cs__recs_t *r, const char *s) {
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i] && !strcmp(r->v[i], s)) {
			free(r->v[i]);
			r->v[i] = NULL;
			return 0;
		}
	return -1;
}

static size_t cs__recs_left(const cs__recs_t *r) {
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i]) {
			if (n++ < 10)
				CS_TEST_SAY("unexpected record: %s", r->v[i]);
		}
	return n;
}

int cs_test_0016(void) {
	char path[512], errstr[512], buf[256];
	static const char *names[] = {"HINCRBY", "ZINCRBY", "ZADD", "PFADD", "HMIN", "HMAX", "HSET", "XADD", "ESCCONF", "ESC", "OFFSETS"};
	cs_ingest_conf_t *conf = cs_ingest_conf_new();
	cs_ingest_agg_t agg = {0};
	cs_corr_db_t *db;
	cs_ingest_flush_t *f;
	cs_ingest_part_t parts[3] = {{"soc-events", 0, 100, 250, 1, 1, 0, 0, 0}, {"soc-events", 1, -1, 40, 1, 1, 0, 0, 0}, {"soc-events", 2, 7, 7, 1, 1, 0, 0, 0}};
	cs__recs_t recs = {0};
	const char **argv;
	const size_t *argvlen;
	size_t nk, a, want_kinds = 0;
	int argc;
	uint32_t evil, ip;

	/* the schema's names, spelled out once here against the header */
	CS_TEST_EQ_INT(cs_keys_win(buf, sizeof(buf), "cs", 60, W0), 20);
	CS_TEST_EQ_STR(buf, "cs:win:60:1795922040");
	cs_keys_wtlp(buf, sizeof(buf), "cs", 60, W0);
	CS_TEST_EQ_STR(buf, "cs:wtlp:60:1795922040");
	cs_keys_dim(buf, sizeof(buf), "cs", 60, W0);
	CS_TEST_EQ_STR(buf, "cs:dim:60:1795922040");
	cs_keys_src(buf, sizeof(buf), "cs", 60, W0, "evil.example");
	CS_TEST_EQ_STR(buf, "cs:src:60:1795922040:evil.example");
	cs_keys_top(buf, sizeof(buf), "cs", W0, CS_TLP_AMBER_STRICT);
	CS_TEST_EQ_STR(buf, "cs:top:1795910400:amber+strict");
	cs_keys_top(buf, sizeof(buf), "cs", -1, CS_TLP_RED);
	CS_TEST_EQ_STR(buf, "cs:top:-86400:red");
	cs_keys_wins(buf, sizeof(buf), "cs", 60);
	CS_TEST_EQ_STR(buf, "cs:wins:60");
	cs_keys_ind(buf, sizeof(buf), "cs", "evil.example");
	CS_TEST_EQ_STR(buf, "cs:ind:evil.example");
	cs_keys_off(buf, sizeof(buf), "cs", "g1");
	CS_TEST_EQ_STR(buf, "cs:off:g1");
	cs_keys_stats(buf, sizeof(buf), "cs");
	CS_TEST_EQ_STR(buf, "cs:stats");
	cs_keys_rejects(buf, sizeof(buf), "cs");
	CS_TEST_EQ_STR(buf, "cs:rejects");
	cs_keys_suppressed(buf, sizeof(buf), "cs");
	CS_TEST_EQ_STR(buf, "cs:suppressed");
	cs_keys_alerts(buf, sizeof(buf), "cs", CS_TLP_AMBER_STRICT);
	CS_TEST_EQ_STR(buf, "cs:alerts:amber+strict");
	cs_keys_roll(buf, sizeof(buf), "cs", CS_KEYS_TIER_HOUR, 1795921200);
	CS_TEST_EQ_STR(buf, "cs:roll:3600:1795921200");
	cs_keys_part(buf, sizeof(buf), "cs", "lu-circl");
	CS_TEST_EQ_STR(buf, "cs:part:lu-circl");
	cs_keys_ind_seen_field(buf, sizeof(buf), CS_KEYS_IND_FIRST, CS_TLP_AMBER_STRICT);
	CS_TEST_EQ_STR(buf, "first|amber+strict");
	cs_keys_roll_field(buf, sizeof(buf), CS_TLP_RED, CS_TLP_AMBER, "lu|circl", CS_KEYS_ROLL_IND, "a|b\nc", 5);
	CS_TEST_EQ_STR(buf, "red|amber|lu/circl|i|a|b\nc"); /* the indicator verbatim, last */
	cs_keys_roll_field(buf, sizeof(buf), CS_TLP_GREEN, -1, "lu-circl", CS_KEYS_ROLL_REJECT, "x|y\n", 4);
	CS_TEST_EQ_STR(buf, "green|-|lu-circl|rej|x/y/");
	cs_keys_roll_field(buf, sizeof(buf), CS_TLP_GREEN, -1, "lu-circl", CS_KEYS_ROLL_EVENTS, NULL, 0);
	CS_TEST_EQ_STR(buf, "green|-|lu-circl|ev");
	{
		cs_keys_roll_t r;
		CS_TEST_EQ_INT(cs_keys_roll_parse("red|amber|lu-circl|i|a|b", &r), 0);
		CS_TEST_ASSERT(r.tlp == CS_TLP_RED && r.itlp == CS_TLP_AMBER && r.org_len == 8 && !strncmp(r.org, "lu-circl", 8) &&
				       r.what_len == 1 && *r.what == 'i' && !strcmp(r.value, "a|b"),
			       "roll field read back");
		CS_TEST_EQ_INT(cs_keys_roll_parse("green|-|x|ev", &r), 0);
		CS_TEST_ASSERT(r.itlp == -1 && r.value == NULL && r.what_len == 2, "events field read back");
		CS_TEST_EQ_INT(cs_keys_roll_parse("green|-||ev", &r), -1);
		CS_TEST_EQ_INT(cs_keys_roll_parse("Green|-|x|ev", &r), -1);
		CS_TEST_EQ_INT(cs_keys_roll_parse("green|x|ev", &r), -1);
		CS_TEST_EQ_INT(cs_keys_roll_parse("green|-|x|", &r), -1);
	}
	cs_keys_off_field(buf, sizeof(buf), "soc-events", 3);
	CS_TEST_EQ_STR(buf, "soc-events/3");
	CS_TEST_EQ_INT(cs_keys_win(buf, 10, "cs", 60, W0), -1); /* does not fit */
	cs_keys_dim_field(buf, sizeof(buf), CS_TLP_GREEN, "hits", "category", "a|b\nc", 5);
	CS_TEST_EQ_STR(buf, "green|hits|category:a/b/c");
	{
		char longv[100];
		memset(longv, 'x', sizeof(longv));
		CS_TEST_EQ_INT(cs_keys_dim_field(buf, sizeof(buf), CS_TLP_RED, "events", "org", longv, sizeof(longv)),
			       (int)strlen("red|events|org:") + CS_KEYS_DIM_VALUE_MAX);
	}
	{
		cs_tlp_t t;
		const char *v;
		CS_TEST_EQ_INT(cs_keys_wtlp_parse("amber+strict|evil|x", &t, &v), 0);
		CS_TEST_EQ_INT(t, CS_TLP_AMBER_STRICT);
		CS_TEST_EQ_STR(v, "evil|x");
		CS_TEST_EQ_INT(cs_keys_wtlp_parse("Amber|evil", &t, &v), -1);
		CS_TEST_EQ_INT(cs_keys_wtlp_parse("rouge|evil", &t, &v), -1);
		CS_TEST_EQ_INT(cs_keys_wtlp_parse("evil", &t, &v), -1);
	}
	{
		static const struct {
			const char *s;
			int ok;
			int64_t v;
		} ints[] = {{"0", 1, 0}, {"100", 1, 100}, {"-5", 1, -5}, {"9223372036854775807", 1, INT64_MAX},
			    {"-9223372036854775808", 1, INT64_MIN}, {"9223372036854775808", 0, 0}, {"abc", 0, 0},
			    {" 100", 0, 0}, {"100 ", 0, 0}, {"+1", 0, 0}, {"007", 0, 0}, {"-0", 0, 0}, {"", 0, 0},
			    {"-", 0, 0}, {"1e3", 0, 0}, {"99999999999999999999", 0, 0}};
		for (size_t i = 0; i < sizeof(ints) / sizeof(*ints); i++) {
			int64_t v = 42;
			int ok = !cs_keys_parse_i64(ints[i].s, strlen(ints[i].s), &v);
			CS_TEST_ASSERT(ok == ints[i].ok && (!ok || v == ints[i].v), "\"%s\": %s %lld", ints[i].s,
				       ok ? "read" : "refused", (long long)v);
		}
	}

	/* a set of two indicators */
	snprintf(path, sizeof(path), "%s/ind.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, "evil.example\n203.0.113.7\n"), 0);
	CS_TEST_ASSERT((db = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(cs_corr_db_count(db), 2);
	evil = !strcmp(cs_corr_db_indicator(db, 0)->value, "evil.example") ? 0 : 1;
	ip = 1 - evil;
	CS_TEST_ASSERT(conf, "conf");
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "aggregate.key.prefix", "p", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "group.id", "g1", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "aggregate.ttl.s", "3600", errstr, sizeof(errstr)), 0);
	CS_TEST_EQ_INT(cs_ingest_conf_set(conf, "alerts.stream.maxlen", "500", errstr, sizeof(errstr)), 0);

	/* the batch */
	agg.events = 1000;
	agg.late = 3;
	agg.rejects[CS_DECODE_REJECT_SYNTAX] = 2;
	CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, W0, evil, CS_TLP_AMBER, 5), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, W0, evil, CS_TLP_RED, 2), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_add(&agg, W1, ip, CS_TLP_GREEN, 4), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_dim(&agg, W0, "amber|hits|org:lu-circl", 5), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_dim(&agg, W1, "green|events|ms:LU", 9), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_src(&agg, W0, "evil.example", "lu-circl"), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_src(&agg, W0, "evil.example", "de-bank-soc"), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_src(&agg, W0, "evil.example", "lu-circl"), 0); /* once */
	CS_TEST_EQ_INT(cs_ingest_agg_roll(&agg, W0, "amber|amber|lu-circl|i|evil.example", 5), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_roll(&agg, W1, "green|-|lu-circl|ev", 4), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_roll(&agg, W0, "green|-|lu-circl|ev", 5), 0); /* the same hour: added */
	CS_TEST_EQ_INT(cs_ingest_agg_part(&agg, W1, "lu-circl", "CIRCL\x1f" "CSIRT\x1fLU\x1fgovernment\x1fgreen\x1f"), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_part(&agg, W0, "lu-circl", "CIRCL\x1f" "CSIRT\x1fLU\x1fgovernment\x1fgreen\x1f"), 0);
	/* the escalation rule's input: two hits of one participant in W0 (one entry, counted 2) */
	CS_TEST_EQ_INT(cs_ingest_agg_esc(&agg, W0, "evil.example", "lu-circl|2|LU|government"), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_esc(&agg, W0, "evil.example", "lu-circl|2|LU|government"), 0);
	CS_TEST_EQ_INT(agg.dim_cnt, 8);
	CS_TEST_EQ_INT(cs_ingest_agg_alert(&agg, strdup("t/0/1/0/domain:evil.example"), strdup("{\"a\":1}"), CS_TLP_AMBER), 0);
	CS_TEST_EQ_INT(cs_ingest_agg_alert(&agg, strdup("t/0/2/0/domain:evil.example"), strdup("{\"a\":2}"), CS_TLP_RED), 0);

	CS_TEST_ASSERT((f = cs_ingest_flush_encode(conf, &agg, db, parts, 3, errstr, sizeof(errstr))), "%s", errstr);
	argc = cs_ingest_flush_argv(f, "0123456789012345678901234567890123456789", &argv, &argvlen);
	nk = cs_ingest_flush_nkeys(f);
	CS_TEST_EQ_INT(argc, 3 + (int)nk + (int)cs_ingest_flush_nargs(f));
	CS_TEST_EQ_STR(argv[0], "EVALSHA");
	CS_TEST_EQ_STR(argv[1], "0123456789012345678901234567890123456789");
	CS_TEST_EQ_INT(strtol(argv[2], NULL, 10), (long)nk);
	for (int i = 0; i < argc; i++)
		CS_TEST_EQ_INT(argvlen[i], strlen(argv[i]));

	/* KEYS: each once, the offsets hash first; ARGV: tag, ttl, a kind per key */
	CS_TEST_EQ_STR(argv[3], "p:off:g1");
	for (size_t i = 0; i < nk; i++)
		for (size_t j = i + 1; j < nk; j++)
			CS_TEST_ASSERT(strcmp(argv[3 + i], argv[3 + j]), "key %s twice", argv[3 + i]);
	a = 3 + nk;
	CS_TEST_EQ_STR(argv[a], CS_INGEST_FLUSH_TAG);
	CS_TEST_EQ_STR(argv[a + 1], "3600");
	{
		static const struct {
			const char *key, *kind;
		} kinds[] = {{"p:off:g1", "hash"},
			     {"p:stats", "hash"},
			     {"p:wins:60", "zset"},
			     {"p:rejects", "hash"},
			     {"p:dim:60:1795922040", "hash+"},
			     {"p:dim:60:1795922100", "hash+"},
			     {"p:src:60:1795922040:evil.example", "hll+"},
			     {"p:win:60:1795922040", "hash+"},
			     {"p:win:60:1795922100", "hash+"},
			     {"p:wtlp:60:1795922040", "hash+"},
			     {"p:wtlp:60:1795922100", "hash+"},
			     {"p:top:1795910400:amber", "zset+"},
			     {"p:top:1795910400:red", "zset+"},
			     {"p:top:1795910400:green", "zset+"},
			     {"p:ind:evil.example", "hash"},
			     {"p:ind:203.0.113.7", "hash"},
			     {"p:alerts:amber", "stream"},
			     {"p:alerts:red", "stream"},
			     {"p:wins:3600", "zset"},
			     {"p:wins:86400", "zset"},
			     {"p:roll:3600:1795921200", "hash+7776000"},
			     {"p:roll:86400:1795910400", "hash+34560000"},
			     {"p:part:lu-circl", "hash"},
			     {"p:esc:evil.example", "hash+259200"},
			     {"p:escalations:clear", "stream"},
			     {"p:escalations:green", "stream"},
			     {"p:escalations:amber", "stream"},
			     {"p:escalations:amber+strict", "stream"},
			     {"p:escalations:red", "stream"}};
		for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
			size_t i = 0;
			while (i < nk && strcmp(argv[3 + i], kinds[k].key))
				i++;
			CS_TEST_ASSERT(i < nk, "no key %s", kinds[k].key);
			CS_TEST_ASSERT(!strcmp(argv[a + 2 + i], kinds[k].kind), "%s is a %s, expected %s", kinds[k].key,
				       argv[a + 2 + i], kinds[k].kind);
			want_kinds++;
		}
		CS_TEST_EQ_INT(nk, want_kinds);
	}
	a += 2 + nk;

	/* the sections, read as the script reads them */
	for (int s = 0; s < CS_INGEST_FLUSH__SEC_CNT; s++) {
		long n = strtol(argv[a++], NULL, 10);
		int width = cs_ingest_flush_sec_width((cs_ingest_flush_sec_t)s);
		CS_TEST_EQ_INT(n, cs_ingest_flush_records(f, (cs_ingest_flush_sec_t)s));
		for (long r = 0; r < n; r++) {
			char rec[1024];
			size_t o = (size_t)snprintf(rec, sizeof(rec), "%s", names[s]);
			CS_TEST_ASSERT(a + (size_t)width <= (size_t)argc, "section %s runs past the end", names[s]);
			for (int c = 0; c < width; c++, a++) {
				const char *v = argv[a];
				char list[1024];
				if ((c == 0 && s != CS_INGEST_FLUSH_OFFSETS && s != CS_INGEST_FLUSH_ESCCONF) ||
				    (c == 1 && s == CS_INGEST_FLUSH_ESC)) {
					long k = strtol(v, NULL, 10);
					CS_TEST_ASSERT(k >= 2 && (size_t)k <= nk, "%s: key index %ld of %zu", names[s], k, nk);
					v = argv[3 + k - 1];
				}
				if (c == 5 && s == CS_INGEST_FLUSH_ESCCONF) { /* the streams' key indexes, as names */
					size_t lo = 0;
					for (const char *p = v; *p; p += strcspn(p, ","), p += *p == ',') {
						long k = strtol(p, NULL, 10);
						CS_TEST_ASSERT(k >= 2 && (size_t)k <= nk, "ESCCONF: key index %ld of %zu", k, nk);
						lo += (size_t)snprintf(list + lo, sizeof(list) - lo, "%s%s", lo ? "," : "", argv[3 + k - 1]);
					}
					v = list;
				}
				o += (size_t)snprintf(rec + o, sizeof(rec) - o, " %s", v);
			}
			cs__recs_add(&recs, rec);
		}
	}
	CS_TEST_EQ_INT(a, (size_t)argc);

	{
		static const char *want[] = {
			"HINCRBY p:stats events 1000",
			"HINCRBY p:stats late 3",
			"HINCRBY p:stats hits 11",
			"HINCRBY p:rejects syntax 2",
			"HINCRBY p:dim:60:1795922040 amber|hits|org:lu-circl 5",
			"HINCRBY p:dim:60:1795922100 green|events|ms:LU 9",
			"HINCRBY p:win:60:1795922040 evil.example 5",
			"HINCRBY p:win:60:1795922040 evil.example 2",
			"HINCRBY p:wtlp:60:1795922040 amber|evil.example 5",
			"HINCRBY p:wtlp:60:1795922040 red|evil.example 2",
			"HINCRBY p:win:60:1795922100 203.0.113.7 4",
			"HINCRBY p:wtlp:60:1795922100 green|203.0.113.7 4",
			"ZINCRBY p:top:1795910400:amber evil.example 5",
			"ZINCRBY p:top:1795910400:red evil.example 2",
			"ZINCRBY p:top:1795910400:green 203.0.113.7 4",
			"ZADD p:wins:60 1795922040 1795922040",
			"ZADD p:wins:60 1795922100 1795922100",
			"HINCRBY p:roll:3600:1795921200 amber|amber|lu-circl|i|evil.example 5",
			"HINCRBY p:roll:86400:1795910400 amber|amber|lu-circl|i|evil.example 5",
			"HINCRBY p:roll:3600:1795921200 green|-|lu-circl|ev 9",
			"HINCRBY p:roll:86400:1795910400 green|-|lu-circl|ev 9",
			"ZADD p:wins:3600 1795921200 1795921200",
			"ZADD p:wins:86400 1795910400 1795910400",
			"HSET p:part:lu-circl name CIRCL",
			"HSET p:part:lu-circl kind CSIRT",
			"HSET p:part:lu-circl ms LU",
			"HSET p:part:lu-circl sector government",
			"HSET p:part:lu-circl tlp green",
			"HMAX p:part:lu-circl last_event 1795922100",
			"HMIN p:ind:evil.example first|amber 1795922040",
			"HMAX p:ind:evil.example last|amber 1795922040",
			"HMIN p:ind:evil.example first|red 1795922040",
			"HMAX p:ind:evil.example last|red 1795922040",
			"HMIN p:ind:203.0.113.7 first|green 1795922100",
			"HMAX p:ind:203.0.113.7 last|green 1795922100",
			"PFADD p:src:60:1795922040:evil.example lu-circl",
			"PFADD p:src:60:1795922040:evil.example de-bank-soc",
			"HSET p:ind:evil.example type domain",
			"HSET p:ind:evil.example tlp amber",
			"HSET p:ind:evil.example source ind.txt",
			"HSET p:ind:evil.example tags ",
			"HSET p:ind:evil.example confidence ",
			"HSET p:ind:203.0.113.7 type ipv4",
			"HSET p:ind:203.0.113.7 tlp amber",
			"HSET p:ind:203.0.113.7 source ind.txt",
			"HSET p:ind:203.0.113.7 tags ",
			"HSET p:ind:203.0.113.7 confidence ",
			"XADD p:alerts:amber 500 id t/0/1/0/domain:evil.example alert {\"a\":1}",
			"XADD p:alerts:red 500 id t/0/2/0/domain:evil.example alert {\"a\":2}",
			"ESCCONF 86400 43200 3 2 100000 p:escalations:clear,p:escalations:green,p:escalations:amber,"
			"p:escalations:amber+strict,p:escalations:red live",
			"ESC p:esc:evil.example p:ind:evil.example evil.example 1795922040 lu-circl|2|LU|government 2",
			"OFFSETS soc-events/0 100 250",
			"OFFSETS soc-events/1 - 40",
		};
		for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
			CS_TEST_ASSERT(!cs__recs_take(&recs, want[i]), "no record \"%s\"", want[i]);
		/* the two id fields hold where the indicators came from */
		for (int k = 0; k < 2; k++) {
			char rec[1024];
			snprintf(rec, sizeof(rec), "HSET p:ind:%s id %s:%d", k ? "203.0.113.7" : "evil.example", path, k ? 2 : 1);
			CS_TEST_ASSERT(!cs__recs_take(&recs, rec), "no record \"%s\"", rec);
		}
		CS_TEST_EQ_INT(cs__recs_left(&recs), 0);
	}
	for (size_t i = 0; i < recs.n; i++)
		free(recs.v[i]);
	free(recs.v);
	cs_ingest_flush_destroy(f);
	cs_ingest_agg_destroy(&agg);
	cs_corr_db_destroy(db);
	cs_ingest_conf_destroy(conf);
	return 0;
}
