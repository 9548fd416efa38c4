/*
 * cs_bench_report.c - `cshield-bench report`: a 30-day situation report over
 * 100,000 distinct indicators hit and 500 participants, on the real
 * redis-server ($CS_REDIS_ADDR).
 *
 * DESIGN: writes roll-ups shaped as cshield-ingest writes them (common/
 * cs_keys.h: the same fields, tiers and metadata keys) for the period and the
 * one before it, at both tiers; then times cshield-report's path (fetch,
 * edition, HTML) reading the day tier, against the same report read from the
 * hour tier in the same run (what the report would read without day
 * roll-ups); and reports Redis memory per day of aggregates per tier
 * (MEMORY USAGE). Everything it wrote is deleted at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>

#include "cs_common.h"
#include "cs_keys.h"
#include "cs_json.h"
#include "cs_report_sit.h"
#include "cs_bench_modes.h"

static const char *const cs__ms[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
				     "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
static const char *const cs__sectors[] = {"energy", "health", "finance", "transport", "government", "telecom", "water"};
static const char *const cs__kinds[] = {"CSIRT", "SOC", "CERT", "private"};
static const char *const cs__cats[] = {"Potentially Bad Traffic", "A Network Trojan was Detected", "malware",
				       "Attempted Information Leak", "Misc activity", "intrusion_detection"};

static uint64_t cs__rng = 88172645463325252ULL;
static unsigned cs__rnd(unsigned n) {
	cs__rng ^= cs__rng << 13, cs__rng ^= cs__rng >> 7, cs__rng ^= cs__rng << 17;
	return (unsigned)(cs__rng % n);
}

/* TLPs as a hub sees them: mostly GREEN and AMBER */
static cs_tlp_t cs__tlp(void) {
	unsigned r = cs__rnd(100);
	return r < 20 ? CS_TLP_CLEAR : r < 60 ? CS_TLP_GREEN : r < 90 ? CS_TLP_AMBER : r < 98 ? CS_TLP_AMBER_STRICT : CS_TLP_RED;
}

typedef struct cs__w_s {
	redisContext *rc;
	long pending;
	long long commands;
} cs__w_t;

static int cs__drain(cs__w_t *w, long keep) {
	while (w->pending > keep) {
		redisReply *r;
		if (redisGetReply(w->rc, (void **)&r) != REDIS_OK) {
			fprintf(stderr, "cshield-bench: redis: %s\n", w->rc->errstr);
			return -1;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			fprintf(stderr, "cshield-bench: redis: %s\n", r->str);
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
		w->pending--;
	}
	return 0;
}

static int cs__cmd(cs__w_t *w, int argc, const char **argv, const size_t *lens) {
	if (redisAppendCommandArgv(w->rc, argc, argv, lens) != REDIS_OK)
		return -1;
	w->pending++;
	w->commands++;
	return cs__drain(w, 2000);
}

/* HINCRBY of one field in the day's and the hour's bucket */
static int cs__hit(cs__w_t *w, const char *pre, int64_t day, int64_t hour, const char *field, long long n) {
	char k1[CS_KEYS_MAX], k2[CS_KEYS_MAX], nb[24];
	const char *a[4] = {"HINCRBY", k1, field, nb};
	size_t l[4] = {7, 0, strlen(field), 0};
	cs_keys_roll(k1, sizeof(k1), pre, CS_KEYS_TIER_DAY, day);
	cs_keys_roll(k2, sizeof(k2), pre, CS_KEYS_TIER_HOUR, hour);
	l[3] = (size_t)snprintf(nb, sizeof(nb), "%lld", n);
	l[1] = strlen(k1);
	if (cs__cmd(w, 4, a, l))
		return -1;
	a[1] = k2;
	l[1] = strlen(k2);
	return cs__cmd(w, 4, a, l);
}

static double cs__time_report(const char *host, int port, const char *pre, int64_t from, int64_t to, int64_t tier,
			      cs_tlp_t audience, size_t *counts, int64_t *hits) {
	cs_report_sit_fetch_opts_t fo = {host, port, pre, from, to, tier, NULL, NULL};
	cs_report_ed_opts_t eo = {audience, audience >= CS_TLP_AMBER_STRICT ? "hub" : NULL, "hub", NULL, 3, 20, 86400,
				  to};
	char errstr[512];
	int64_t t0 = cs_clock_ms();
	cs_report_sit_t *s = cs_report_sit_fetch(&fo, errstr, sizeof(errstr));
	cs_report_ed_t *ed;
	FILE *fp;
	if (!s) {
		fprintf(stderr, "cshield-bench: report: %s\n", errstr);
		return -1;
	}
	if (!(ed = cs_report_ed_new(s, &eo, errstr, sizeof(errstr))) || !(fp = fopen("/dev/null", "w"))) {
		fprintf(stderr, "cshield-bench: edition: %s\n", errstr);
		cs_report_sit_destroy(s);
		return -1;
	}
	cs_report_ed_html(ed, fp);
	fclose(fp);
	*counts = cs_report_sit_counts(s);
	{
		/* the JSON edition's hits, to print what was computed */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		const char *p;
		cs_report_ed_json(ed, m);
		fclose(m);
		p = buf ? strstr(buf, "\"hits\":{\"value\":") : NULL;
		*hits = p ? atoll(p + 16) : -1;
		free(buf);
	}
	cs_report_ed_destroy(ed);
	cs_report_sit_destroy(s);
	return (double)(cs_clock_ms() - t0) / 1000.0;
}

static long long cs__mem(redisContext *rc, const char *key) {
	redisReply *r = redisCommand(rc, "MEMORY USAGE %s SAMPLES 0", key);
	long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	if (r)
		freeReplyObject(r);
	return v;
}

int cs_bench_report(size_t nind, int nparts, int days, int json) {
	const char *raddr = getenv("CS_REDIS_ADDR");
	char host[128], pre[64], key[CS_KEYS_MAX], field[CS_KEYS_MAX], val[64];
	int port, rc_ = 1;
	int64_t now = (int64_t)time(NULL), end = (now / 86400 + 1) * 86400, from = end - (int64_t)days * 86400;
	cs_tlp_t *ptlp = NULL, *itlp = NULL;
	cs__w_t w = {0};
	int64_t t0;
	long long fields = 0;
	double gen_s, day_s[3], hour_s = -1;
	size_t counts_day = 0, counts_hour = 0;
	int64_t hits_day = 0, hits_hour = 0;
	long long mem_day = 0, mem_hour = 0;

	if (!raddr || !strrchr(raddr, ':')) {
		fprintf(stderr, "cshield-bench report: set CS_REDIS_ADDR=HOST:PORT (deploy/local/services.sh start)\n");
		return 2;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(strrchr(raddr, ':') - raddr), raddr);
	port = atoi(strrchr(raddr, ':') + 1);
	snprintf(pre, sizeof(pre), "csbench-report-%d", (int)getpid());
	if (!(w.rc = redisConnect(host, port)) || w.rc->err) {
		fprintf(stderr, "cshield-bench: redis %s: %s\n", raddr, w.rc ? w.rc->errstr : "no context");
		goto out;
	}
	if (!(ptlp = cs_calloc((size_t)nparts, sizeof(*ptlp))) || !(itlp = cs_calloc(nind, sizeof(*itlp))))
		goto out;
	fprintf(stderr, "cshield-bench report: writing %d days (and the %d before) of roll-ups: %zu indicators, %d participants\n",
		days, days, nind, nparts);
	t0 = cs_clock_ms();
	/* participants and indicators, as the flush writes them */
	for (int p = 0; p < nparts; p++) {
		const char *a[14];
		size_t l[14];
		char id[32], last[24];
		ptlp[p] = cs__tlp();
		snprintf(id, sizeof(id), "p%04d", p);
		cs_keys_part(key, sizeof(key), pre, id);
		snprintf(last, sizeof(last), "%lld", (long long)(p % 50 == 7 ? end - 10 * 86400 : end - 3600));
		a[0] = "HSET", a[1] = key, a[2] = CS_KEYS_PART_NAME, a[3] = id, a[4] = CS_KEYS_PART_KIND,
		a[5] = cs__kinds[p % 4], a[6] = CS_KEYS_PART_MS, a[7] = cs__ms[p % 27], a[8] = CS_KEYS_PART_SECTOR,
		a[9] = cs__sectors[p % 7], a[10] = CS_KEYS_PART_TLP, a[11] = cs_tlp2str(ptlp[p]), a[12] = CS_KEYS_PART_LAST,
		a[13] = last;
		for (int i = 0; i < 14; i++)
			l[i] = strlen(a[i]);
		if (cs__cmd(&w, 14, a, l))
			goto out;
	}
	for (size_t i = 0; i < nind; i++) {
		const char *a[10];
		size_t l[10];
		char v[64], f1[32], f2[32], first[24], last[24];
		itlp[i] = cs__tlp() > CS_TLP_AMBER ? CS_TLP_AMBER : cs__tlp();
		snprintf(v, sizeof(v), "c2-%06zu.evil-bench.eu", i);
		cs_keys_ind(key, sizeof(key), pre, v);
		cs_keys_ind_seen_field(f1, sizeof(f1), CS_KEYS_IND_FIRST, itlp[i]);
		cs_keys_ind_seen_field(f2, sizeof(f2), CS_KEYS_IND_LAST, itlp[i]);
		snprintf(first, sizeof(first), "%lld", (long long)(end - 2 * (int64_t)days * 86400 + (int64_t)(i % 60) * 86400));
		snprintf(last, sizeof(last), "%lld", (long long)(end - 3600));
		a[0] = "HSET", a[1] = key, a[2] = CS_KEYS_IND_TYPE, a[3] = "domain", a[4] = CS_KEYS_IND_TLP,
		a[5] = cs_tlp2str(itlp[i]), a[6] = f1, a[7] = first, a[8] = f2, a[9] = last;
		for (int k = 0; k < 10; k++)
			l[k] = strlen(a[k]);
		if (cs__cmd(&w, 10, a, l))
			goto out;
	}
	/* the buckets: per day about nind / days * 1.5 indicators hit (a third of them recurring), by 1 to 3
	 * participants each; every participant's events, formats, categories and severities */
	for (int d = 0; d < 2 * days; d++) {
		int64_t day = end - 2 * (int64_t)days * 86400 + (int64_t)d * 86400;
		size_t per_day = nind / (size_t)days, hot = per_day / 2;
		for (int t = 0; t < 2; t++) {
			for (int h = 0; h < (t ? 24 : 1); h++) {
				const char *a[4] = {"ZADD", key, val, val};
				size_t l[4];
				cs_keys_wins(key, sizeof(key), pre, t ? CS_KEYS_TIER_HOUR : CS_KEYS_TIER_DAY);
				snprintf(val, sizeof(val), "%lld", (long long)(day + h * 3600));
				for (int k = 0; k < 4; k++)
					l[k] = strlen(a[k]);
				if (cs__cmd(&w, 4, a, l))
					goto out;
			}
		}
		for (size_t j = 0; j < per_day + hot; j++) {
			size_t i = j < per_day ? ((size_t)(d % days) * per_day + j) % nind : cs__rnd((unsigned)(nind / 20 + 1));
			int np = 1 + (int)cs__rnd(3);
			char v[64];
			snprintf(v, sizeof(v), "c2-%06zu.evil-bench.eu", i);
			for (int q = 0; q < np; q++) {
				int p = (int)cs__rnd((unsigned)nparts);
				cs_tlp_t t = itlp[i] > ptlp[p] ? itlp[i] : ptlp[p];
				int64_t hour = day + (int64_t)cs__rnd(24) * 3600;
				long long n = 1 + cs__rnd(40);
				char org[16];
				snprintf(org, sizeof(org), "p%04d", p);
				cs_keys_roll_field(field, sizeof(field), t, (int)itlp[i], org, CS_KEYS_ROLL_IND, v, strlen(v));
				if (cs__hit(&w, pre, day, hour, field, n))
					goto out;
				cs_keys_roll_field(field, sizeof(field), t, (int)itlp[i], org, CS_KEYS_ROLL_CATEGORY,
						   cs__cats[i % 6], strlen(cs__cats[i % 6]));
				if (cs__hit(&w, pre, day, hour, field, n))
					goto out;
				fields += 2;
			}
		}
		for (int p = 0; p < nparts; p++) {
			char org[16], sev[4];
			int64_t hour = day + (int64_t)cs__rnd(24) * 3600;
			if (p % 50 == 7 && d >= 2 * days - 10)
				continue; /* a few silent for ten days */
			snprintf(org, sizeof(org), "p%04d", p);
			snprintf(sev, sizeof(sev), "%u", 1 + cs__rnd(3));
			cs_keys_roll_field(field, sizeof(field), ptlp[p], -1, org, CS_KEYS_ROLL_EVENTS, NULL, 0);
			if (cs__hit(&w, pre, day, hour, field, 2000 + cs__rnd(50000)))
				goto out;
			cs_keys_roll_field(field, sizeof(field), ptlp[p], -1, org, CS_KEYS_ROLL_FORMAT, "eve", 3);
			if (cs__hit(&w, pre, day, hour, field, 2000 + cs__rnd(50000)))
				goto out;
			cs_keys_roll_field(field, sizeof(field), ptlp[p], CS_TLP_CLEAR, org, CS_KEYS_ROLL_SEVERITY, sev, 1);
			if (cs__hit(&w, pre, day, hour, field, 1 + cs__rnd(30)))
				goto out;
			fields += 3;
		}
	}
	if (cs__drain(&w, 0))
		goto out;
	gen_s = (double)(cs_clock_ms() - t0) / 1000.0;
	fprintf(stderr, "cshield-bench report: %lld roll-up counts per tier written in %.1f s (%lld commands)\n", fields,
		gen_s, w.commands);

	/* memory per day, per tier: a day in the middle of the period */
	{
		int64_t day = from + (int64_t)(days / 2) * 86400;
		cs_keys_roll(key, sizeof(key), pre, CS_KEYS_TIER_DAY, day);
		mem_day = cs__mem(w.rc, key);
		for (int h = 0; h < 24; h++) {
			cs_keys_roll(key, sizeof(key), pre, CS_KEYS_TIER_HOUR, day + h * 3600);
			mem_hour += cs__mem(w.rc, key);
		}
	}
	/* the report: three times from the day tier, once from the hour tier */
	for (int r = 0; r < 3; r++)
		if ((day_s[r] = cs__time_report(host, port, pre, from, end, 0, CS_TLP_AMBER, &counts_day, &hits_day)) < 0)
			goto out;
	if ((hour_s = cs__time_report(host, port, pre, from, end, CS_KEYS_TIER_HOUR, CS_TLP_AMBER, &counts_hour,
				      &hits_hour)) < 0)
		goto out;
	{
		double best = day_s[0] < day_s[1] ? day_s[0] : day_s[1];
		best = best < day_s[2] ? best : day_s[2];
		if (json) {
			cs_jw_t jw;
			cs_jw_init(&jw, stdout);
			cs_jw_obj_begin(&jw);
			cs_jw_kstr(&jw, "mode", "report");
			cs_jw_kint(&jw, "days", days);
			cs_jw_kint(&jw, "indicators", (int64_t)nind);
			cs_jw_kint(&jw, "participants", nparts);
			cs_jw_kint(&jw, "counts_read_day_tier", (int64_t)counts_day);
			cs_jw_kint(&jw, "counts_read_hour_tier", (int64_t)counts_hour);
			cs_jw_kfixed(&jw, "report_s_day_tier", best, 3);
			cs_jw_kfixed(&jw, "report_s_hour_tier", hour_s, 3);
			cs_jw_kfixed(&jw, "hour_over_day", hour_s / best, 2);
			cs_jw_kint(&jw, "redis_bytes_per_day_day_tier", mem_day);
			cs_jw_kint(&jw, "redis_bytes_per_day_hour_tier", mem_hour);
			cs_jw_kbool(&jw, "target_2s_met", best <= 2.0);
			cs_jw_obj_end(&jw);
			fputc('\n', stdout);
		} else {
			printf("situation report, %d days (and the %d before), %zu indicators, %d participants, AMBER edition, HTML\n",
			       days, days, nind, nparts);
			printf("  %-34s %10s %12s %10s\n", "read from", "seconds", "counts read", "hits");
			printf("  %-34s %10.3f %12zu %10lld   (best of 3: %.3f %.3f %.3f)\n", "day roll-ups (what it reads)",
			       best, counts_day, (long long)hits_day, day_s[0], day_s[1], day_s[2]);
			printf("  %-34s %10.3f %12zu %10lld\n", "hour roll-ups (baseline)", hour_s, counts_hour,
			       (long long)hits_hour);
			printf("  hour / day: %.1fx; target <= 2 s: %s\n", hour_s / best, best <= 2.0 ? "met" : "NOT met");
			printf("  Redis memory per day of roll-ups: day tier %.2f MB, hour tier %.2f MB (MEMORY USAGE)\n",
			       (double)mem_day / 1e6, (double)mem_hour / 1e6);
		}
	}
	rc_ = 0;
out:
	if (w.rc) {
		/* delete what was written */
		char cursor[32] = "0", pat[80];
		cs__drain(&w, 0);
		snprintf(pat, sizeof(pat), "%s:*", pre);
		do {
			redisReply *r = redisCommand(w.rc, "SCAN %s MATCH %s COUNT 5000", cursor, pat);
			if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
				if (r)
					freeReplyObject(r);
				break;
			}
			snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
			for (size_t i = 0; i < r->element[1]->elements; i++) {
				const char *a[2] = {"UNLINK", r->element[1]->element[i]->str};
				size_t l[2] = {6, r->element[1]->element[i]->len};
				cs__cmd(&w, 2, a, l);
			}
			freeReplyObject(r);
			cs__drain(&w, 0);
		} while (strcmp(cursor, "0"));
		redisFree(w.rc);
	}
	cs_free(ptlp);
	cs_free(itlp);
	return rc_;
}
