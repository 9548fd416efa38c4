/*
 * cs_report.c - fetches the window hashes listed in the windows index and
 * prints them. DESIGN: read-only on Redis; one connection, main thread.
 */
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "cs_json.h"
#include "cs_report.h"

struct cs_report_s {
	cs_report_row_t *rows;
	size_t cnt, cap;
	int64_t events, hits;
	int64_t window_s;
	cs_tlp_t audience;
	size_t withheld_rows;
	int64_t withheld_hits;
};

static int cs__row_cmp(const void *a, const void *b) {
	const cs_report_row_t *x = a, *y = b;
	if (x->window != y->window)
		return x->window < y->window ? -1 : 1;
	if (x->hits != y->hits)
		return x->hits > y->hits ? -1 : 1;
	return strcmp(x->indicator, y->indicator);
}

static int cs__row_add(cs_report_t *rep, int64_t window, const char *ind, int64_t hits) {
	if (rep->cnt == rep->cap) {
		size_t ncap = rep->cap ? rep->cap * 2 : 256;
		cs_report_row_t *n = cs_reallocarray(rep->rows, ncap, sizeof(*n));
		if (!n)
			return -1;
		rep->rows = n;
		rep->cap = ncap;
	}
	if (!(rep->rows[rep->cnt].indicator = cs_strdup(ind)))
		return -1;
	rep->rows[rep->cnt].window = window;
	rep->rows[rep->cnt].hits = hits;
	rep->cnt++;
	return 0;
}

static int cs__row_key_cmp(const void *a, const void *b) {
	const cs_report_row_t *x = a, *y = b;
	if (x->window != y->window)
		return x->window < y->window ? -1 : 1;
	return strcmp(x->indicator, y->indicator);
}

/* The "tlp" of an indicator record ({"type":..,"tlp":"amber",...}); RED when unreadable. */
static cs_tlp_t cs__record_tlp(const char *rec) {
	const char *p = rec ? strstr(rec, "\"tlp\":\"") : NULL;
	const char *e;
	int t;
	if (!p)
		return CS_TLP_RED;
	p += 7;
	if (!(e = strchr(p, '"')) || (t = cs_tlp_parse(p, (size_t)(e - p))) < 0)
		return CS_TLP_RED;
	return (cs_tlp_t)t;
}

/* Looks up each row's TLP in P:indicators and withholds what the audience may not see. */
static int cs__apply_tlp(cs_report_t *rep, redisContext *rc, const char *prefix, char *errstr, size_t errstr_size) {
	size_t keep = 0;
	for (size_t i = 0; i < rep->cnt; i += 256) {
		size_t n = rep->cnt - i < 256 ? rep->cnt - i : 256;
		const char *argv[258];
		char key[300];
		redisReply *r;
		snprintf(key, sizeof(key), "%s:indicators", prefix);
		argv[0] = "HMGET";
		argv[1] = key;
		for (size_t k = 0; k < n; k++)
			argv[k + 2] = rep->rows[i + k].indicator;
		r = redisCommandArgv(rc, (int)n + 2, argv, NULL);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
			cs_errstr_set(errstr, errstr_size, "redis HMGET %s: %s", key,
				      rc->err ? rc->errstr : r && r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
			if (r)
				freeReplyObject(r);
			return -1;
		}
		for (size_t k = 0; k < n; k++)
			if (rep->rows[i + k].tlp == CS_TLP__CNT)
				rep->rows[i + k].tlp =
					cs__record_tlp(r->element[k]->type == REDIS_REPLY_STRING ? r->element[k]->str : NULL);
		freeReplyObject(r);
	}
	/* per (window, indicator): the parts the audience may see are summed (the row's TLP is
	 * the strictest of them); a row none of whose parts it may see is withheld */
	qsort(rep->rows, rep->cnt, sizeof(*rep->rows), cs__row_key_cmp);
	for (size_t i = 0; i < rep->cnt;) {
		size_t j = i;
		int64_t shown = 0, hidden = 0;
		cs_tlp_t tlp = CS_TLP_CLEAR;
		for (; j < rep->cnt && rep->rows[j].window == rep->rows[i].window &&
		       !strcmp(rep->rows[j].indicator, rep->rows[i].indicator);
		     j++) {
			if (rep->rows[j].tlp <= rep->audience) {
				shown += rep->rows[j].hits;
				if (rep->rows[j].tlp > tlp)
					tlp = rep->rows[j].tlp;
			} else {
				hidden += rep->rows[j].hits;
			}
		}
		rep->withheld_hits += hidden;
		if (shown) {
			cs_report_row_t row = rep->rows[i];
			row.hits = shown;
			row.tlp = tlp;
			rep->rows[i].indicator = NULL;
			rep->rows[keep++] = row;
		} else {
			rep->withheld_rows++;
		}
		for (size_t k = i; k < j; k++)
			if (rep->rows[k].indicator && !(k == i && shown))
				cs_free(rep->rows[k].indicator);
		i = j;
	}
	rep->cnt = keep;
	return 0;
}

void cs_report_withheld(const cs_report_t *rep, size_t *rows, int64_t *hits) {
	*rows = rep->withheld_rows;
	*hits = rep->withheld_hits;
}

cs_report_t *cs_report_fetch(const cs_report_opts_t *opts, char *errstr, size_t errstr_size) {
	struct timeval tv = {5, 0};
	redisContext *rc = redisConnectWithTimeout(opts->redis_host, opts->redis_port, tv);
	redisReply *wins = NULL, *r = NULL;
	cs_report_t *rep = NULL;

	if (!rc || rc->err) {
		cs_errstr_set(errstr, errstr_size, "redis %s:%d: %s", opts->redis_host,
			      opts->redis_port, rc ? rc->errstr : "cannot allocate context");
		goto err;
	}
	redisSetTimeout(rc, tv);
	if (!(rep = cs_calloc(1, sizeof(*rep))))
		goto nomem;
	rep->window_s = opts->window_s;
	rep->audience = opts->audience;
	wins = redisCommand(rc, "ZRANGEBYSCORE %s:wins:%lld %lld %lld", opts->key_prefix,
			    (long long)opts->window_s, (long long)opts->from, (long long)opts->to);
	if (!wins || wins->type != REDIS_REPLY_ARRAY)
		goto rerr;
	for (size_t i = 0; i < wins->elements; i++) {
		const char *w = wins->element[i]->str;
		/* hits per (TLP, indicator) when ingest recorded them (P:wtlp), else totals whose
		 * TLP is the indicator's (P:indicators) */
		r = redisCommand(rc, "HGETALL %s:wtlp:%lld:%s", opts->key_prefix, (long long)opts->window_s, w);
		if (!r || r->type != REDIS_REPLY_ARRAY)
			goto rerr;
		if (r->elements == 0) {
			freeReplyObject(r);
			r = redisCommand(rc, "HGETALL %s:win:%lld:%s", opts->key_prefix, (long long)opts->window_s, w);
			if (!r || r->type != REDIS_REPLY_ARRAY)
				goto rerr;
		}
		for (size_t j = 0; j + 1 < r->elements; j += 2) {
			const char *f = r->element[j]->str, *bar = strchr(f, '|');
			int t = bar ? cs_tlp_parse(f, (size_t)(bar - f)) : -1;
			if (cs__row_add(rep, strtoll(w, NULL, 10), t >= 0 ? bar + 1 : f,
					strtoll(r->element[j + 1]->str, NULL, 10)))
				goto nomem;
			rep->rows[rep->cnt - 1].tlp = t >= 0 ? (cs_tlp_t)t : CS_TLP__CNT; /* __CNT: look it up */
		}
		freeReplyObject(r);
		r = NULL;
	}
	if (cs__apply_tlp(rep, rc, opts->key_prefix, errstr, errstr_size))
		goto err;
	r = redisCommand(rc, "HMGET %s:stats events hits", opts->key_prefix);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		goto rerr;
	rep->events = r->element[0]->type == REDIS_REPLY_STRING ? strtoll(r->element[0]->str, NULL, 10) : 0;
	rep->hits = r->element[1]->type == REDIS_REPLY_STRING ? strtoll(r->element[1]->str, NULL, 10) : 0;
	freeReplyObject(r);
	freeReplyObject(wins);
	redisFree(rc);
	qsort(rep->rows, rep->cnt, sizeof(*rep->rows), cs__row_cmp);
	return rep;

nomem:
	cs_errstr_set(errstr, errstr_size, "out of memory");
	goto err;
rerr:
	cs_errstr_set(errstr, errstr_size, "redis: %s",
		      rc->err ? rc->errstr
			      : (r && r->type == REDIS_REPLY_ERROR) || (!r && wins && wins->type == REDIS_REPLY_ERROR)
				       ? (r ? r->str : wins->str)
				       : "unexpected reply");
err:
	if (r)
		freeReplyObject(r);
	if (wins)
		freeReplyObject(wins);
	if (rc)
		redisFree(rc);
	cs_report_destroy(rep);
	return NULL;
}

size_t cs_report_row_count(const cs_report_t *rep) {
	return rep->cnt;
}

const cs_report_row_t *cs_report_row(const cs_report_t *rep, size_t i) {
	return i < rep->cnt ? &rep->rows[i] : NULL;
}

int64_t cs_report_total(const cs_report_t *rep, const char *field) {
	return !strcmp(field, "events") ? rep->events : !strcmp(field, "hits") ? rep->hits : 0;
}

/* An upper-case copy for headings (a static buffer: main thread). */
static const char *cs__upper(const char *s) {
	static char buf[2][32];
	static int k;
	char *o = buf[k ^= 1];
	size_t i = 0;
	for (; s[i] && i + 1 < sizeof(buf[0]); i++)
		o[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	o[i] = '\0';
	return o;
}

void cs_report_print_table(const cs_report_t *rep, FILE *fp) {
	int64_t total = 0;
	int w = 9;

	for (size_t i = 0; i < rep->cnt; i++) {
		int l = (int)strlen(rep->rows[i].indicator);
		if (l > w)
			w = l > 80 ? 80 : l;
	}
	fprintf(fp, "TLP:%s report: %zu rows (%lld hits) marked above TLP:%s withheld\n",
		cs__upper(cs_tlp2str(rep->audience)), rep->withheld_rows, (long long)rep->withheld_hits,
		cs__upper(cs_tlp2str(rep->audience)));
	fprintf(fp, "%-20s  %-*s  %-12s  %10s\n", "window (UTC)", w, "indicator", "tlp", "hits");
	for (size_t i = 0; i < rep->cnt; i++) {
		char ts[32];
		cs_time_format_iso8601(rep->rows[i].window, ts, sizeof(ts));
		fprintf(fp, "%-20s  %-*.*s  %-12s  %10lld\n", ts, w, w, rep->rows[i].indicator,
			cs_tlp2str(rep->rows[i].tlp), (long long)rep->rows[i].hits);
		total += rep->rows[i].hits;
	}
	fprintf(fp, "%zu rows, %lld hits in range (%lld s windows); all time: %lld events, %lld hits\n",
		rep->cnt, (long long)total, (long long)rep->window_s, (long long)rep->events,
		(long long)rep->hits);
}


void cs_report_print_jsonl(const cs_report_t *rep, FILE *fp) {
	for (size_t i = 0; i < rep->cnt; i++) {
		char ts[32];
		cs_time_format_iso8601(rep->rows[i].window, ts, sizeof(ts));
		fprintf(fp, "{\"window\":%lld,\"window_utc\":\"%s\",\"indicator\":",
			(long long)rep->rows[i].window, ts);
		cs_json_write_str(fp, rep->rows[i].indicator, strlen(rep->rows[i].indicator));
		fprintf(fp, ",\"tlp\":\"%s\",\"hits\":%lld}\n", cs_tlp2str(rep->rows[i].tlp),
			(long long)rep->rows[i].hits);
	}
}

void cs_report_destroy(cs_report_t *rep) {
	if (!rep)
		return;
	for (size_t i = 0; i < rep->cnt; i++)
		cs_free(rep->rows[i].indicator);
	cs_free(rep->rows);
	cs_free(rep);
}
