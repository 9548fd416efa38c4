/*
 * cs_report.c - fetches the window hashes listed in the windows index and
 * prints them. DESIGN: read-only on Redis; one connection, main thread.
 */
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "cs_json.h"
#include "cs_report.h"
#include "cs_keys.h"

struct cs_report_s {
	cs_report_row_t *rows;
	size_t cnt, cap;
	int64_t events, hits;
	int64_t window_s;
	cs_tlp_t audience;
	size_t withheld_rows;
	int64_t withheld_hits;
	int64_t shown_hits; /* the sum of the rows' hits */
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

/*
 * Per (window, indicator): the parts the audience may see are summed (the
 * row's TLP is the strictest of them); a row none of whose parts it may see
 * is withheld. Sums that would leave 64 bits are an error, not a wrap.
 */
static int cs__apply_tlp(cs_report_t *rep, char *errstr, size_t errstr_size) {
	size_t keep = 0;
	int rc = 0;
	if (rep->cnt) /* qsort(NULL, 0, ...) is undefined */
		qsort(rep->rows, rep->cnt, sizeof(*rep->rows), cs__row_key_cmp);
	for (size_t i = 0; i < rep->cnt;) {
		size_t j = i;
		int64_t shown = 0, hidden = 0;
		int any = 0;
		cs_tlp_t tlp = CS_TLP_CLEAR;
		for (; j < rep->cnt && rep->rows[j].window == rep->rows[i].window &&
		       !strcmp(rep->rows[j].indicator, rep->rows[i].indicator);
		     j++) {
			int64_t *sum = rep->rows[j].tlp <= rep->audience ? &shown : &hidden;
			if (__builtin_add_overflow(*sum, rep->rows[j].hits, sum) && !rc) {
				cs_errstr_set(errstr, errstr_size, "the hits of %.200s in window %lld add up beyond 64 bits",
					      rep->rows[j].indicator, (long long)rep->rows[j].window);
				rc = -1;
			}
			if (rep->rows[j].tlp <= rep->audience) {
				any = 1;
				if (rep->rows[j].tlp > tlp)
					tlp = rep->rows[j].tlp;
			}
		}
		if (__builtin_add_overflow(rep->withheld_hits, hidden, &rep->withheld_hits) && !rc) {
			cs_errstr_set(errstr, errstr_size, "the withheld hits add up beyond 64 bits");
			rc = -1;
		}
		if (any && __builtin_add_overflow(rep->shown_hits, shown, &rep->shown_hits) && !rc) {
			cs_errstr_set(errstr, errstr_size, "the hits shown add up beyond 64 bits");
			rc = -1;
		}
		if (any) {
			cs_report_row_t row = rep->rows[i];
			row.hits = shown;
			row.tlp = tlp;
			rep->rows[i].indicator = NULL;
			rep->rows[keep++] = row;
		} else {
			rep->withheld_rows++;
		}
		for (size_t k = i; k < j; k++)
			if (rep->rows[k].indicator && !(k == i && any))
				cs_free(rep->rows[k].indicator);
		i = j;
	}
	rep->cnt = keep;
	return rc;
}

void cs_report_withheld(const cs_report_t *rep, size_t *rows, int64_t *hits) {
	*rows = rep->withheld_rows;
	*hits = rep->withheld_hits;
}

/* A count as ingest writes it: a non-negative 64-bit integer. */
static int cs__count(const redisReply *e, int64_t *out) {
	return e->type == REDIS_REPLY_STRING && !cs_keys_parse_i64(e->str, e->len, out) && *out >= 0 ? 0 : -1;
}

/* Runs a command whose reply must be an array; errors name the command and key. */
static redisReply *cs__cmd_array(redisContext *rc, char *errstr, size_t errstr_size, const char *what,
				 const char *key, const char *fmt, ...) {
	redisReply *r;
	va_list ap;
	va_start(ap, fmt);
	r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	if (r && r->type == REDIS_REPLY_ARRAY)
		return r;
	cs_errstr_set(errstr, errstr_size, "redis %s %.300s: %.300s", what, key,
		      !r ? (rc->err ? rc->errstr : "no reply") : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	if (r)
		freeReplyObject(r);
	return NULL;
}

int cs_report_redis_target(const char *addr, const char *sentinels, const char *master, char *host,
			   size_t host_size, int *port, char *errstr, size_t errstr_size) {
	if (addr) {
		const char *colon = strrchr(addr, ':');
		char *end;
		long p = colon ? strtol(colon + 1, &end, 10) : 0;
		if (!colon || (size_t)(colon - addr) >= host_size || p <= 0 || p > 65535 || *end || end == colon + 1) {
			cs_errstr_set(errstr, errstr_size, "redis address \"%s\": expected HOST:PORT", addr);
			return 2;
		}
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		*port = (int)p;
	}
	if (!sentinels && !master)
		return 0;
	if (!sentinels || !master) {
		cs_errstr_set(errstr, errstr_size, "--sentinels and --master-name go together");
		return 2;
	}
	return cs_report_sentinel_primary(sentinels, master, host, host_size, port, errstr, errstr_size) ? 1 : 0;
}

int cs_report_sentinel_primary(const char *sentinels, const char *master, char *host, size_t host_size, int *port,
			       char *errstr, size_t errstr_size) {
	struct timeval tv = {2, 0};
	char list[1024], *tok, *save, why[300] = "no Sentinel listed";
	snprintf(list, sizeof(list), "%s", sentinels);
	for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char *colon = strrchr(tok, ':');
		redisContext *sc;
		redisReply *r;
		if (!colon) {
			snprintf(why, sizeof(why), "\"%.100s\" is not HOST:PORT", tok);
			continue;
		}
		*colon = '\0';
		if (!(sc = redisConnectWithTimeout(tok, atoi(colon + 1), tv)) || sc->err) {
			snprintf(why, sizeof(why), "Sentinel %.100s:%.8s: %.100s", tok, colon + 1, sc ? sc->errstr : "no context");
			if (sc)
				redisFree(sc);
			continue;
		}
		redisSetTimeout(sc, tv);
		r = redisCommand(sc, "SENTINEL get-master-addr-by-name %s", master);
		if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING &&
		    r->element[1]->type == REDIS_REPLY_STRING) {
			snprintf(host, host_size, "%s", r->element[0]->str);
			*port = atoi(r->element[1]->str);
			freeReplyObject(r);
			redisFree(sc);
			return 0;
		}
		snprintf(why, sizeof(why), "Sentinel %.100s:%.8s knows no primary named %.100s", tok, colon + 1, master);
		if (r)
			freeReplyObject(r);
		redisFree(sc);
	}
	cs_errstr_set(errstr, errstr_size, "--sentinels: %s", why);
	return -1;
}

int cs_report_auth(void *ctx, const char *user, const char *password, char *errstr, size_t errstr_size) {
	redisContext *rc = ctx;
	redisReply *r;
	if (!password || !*password)
		return 0;
	r = user && *user ? redisCommand(rc, "AUTH %s %s", user, password) : redisCommand(rc, "AUTH %s", password);
	if (r && r->type != REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return 0;
	}
	cs_errstr_set(errstr, errstr_size, "redis AUTH as %s: %s", user && *user ? user : "the default user",
		      !r ? rc->errstr : r->str);
	if (r)
		freeReplyObject(r);
	return -1;
}

cs_report_t *cs_report_fetch(const cs_report_opts_t *opts, char *errstr, size_t errstr_size) {
	struct timeval tv = {5, 0};
	redisContext *rc = redisConnectWithTimeout(opts->redis_host, opts->redis_port, tv);
	redisReply *wins = NULL, *r = NULL;
	cs_report_t *rep = NULL;
	char key[CS_KEYS_MAX];

	if (!rc || rc->err) {
		cs_errstr_set(errstr, errstr_size, "redis %s:%d: %s", opts->redis_host,
			      opts->redis_port, rc ? rc->errstr : "cannot allocate context");
		goto err;
	}
	redisSetTimeout(rc, tv);
	if (cs_report_auth(rc, opts->redis_user, opts->redis_password, errstr, errstr_size))
		goto err;
	if (!(rep = cs_calloc(1, sizeof(*rep))))
		goto nomem;
	rep->window_s = opts->window_s;
	rep->audience = opts->audience;
	cs_keys_wins(key, sizeof(key), opts->key_prefix, opts->window_s);
	if (!(wins = cs__cmd_array(rc, errstr, errstr_size, "ZRANGEBYSCORE", key, "ZRANGEBYSCORE %s %lld %lld", key,
				   (long long)opts->from, (long long)opts->to)))
		goto err;
	for (size_t i = 0; i < wins->elements; i++) {
		const redisReply *m = wins->element[i];
		int64_t w;
		if (m->type != REDIS_REPLY_STRING || cs_keys_parse_i64(m->str, m->len, &w)) {
			cs_errstr_set(errstr, errstr_size, "%s holds \"%.40s\", not a window start", key,
				      m->type == REDIS_REPLY_STRING ? m->str : "?");
			goto err;
		}
		/* hits per (TLP, indicator): the TLP of each part is in its field */
		cs_keys_wtlp(key, sizeof(key), opts->key_prefix, opts->window_s, w);
		if (!(r = cs__cmd_array(rc, errstr, errstr_size, "HGETALL", key, "HGETALL %s", key)))
			goto err;
		for (size_t j = 0; j + 1 < r->elements; j += 2) {
			const char *f = r->element[j]->str, *value;
			cs_tlp_t t;
			int64_t hits;
			if (cs_keys_wtlp_parse(f, &t, &value)) {
				cs_errstr_set(errstr, errstr_size, "%s field \"%.80s\" is not <tlp>|<indicator>", key, f);
				goto err;
			}
			if (cs__count(r->element[j + 1], &hits)) {
				cs_errstr_set(errstr, errstr_size, "%s field \"%.80s\" holds \"%.40s\", not a count", key, f,
					      r->element[j + 1]->type == REDIS_REPLY_STRING ? r->element[j + 1]->str : "?");
				goto err;
			}
			if (cs__row_add(rep, w, value, hits))
				goto nomem;
			rep->rows[rep->cnt - 1].tlp = t;
		}
		freeReplyObject(r);
		r = NULL;
	}
	if (cs__apply_tlp(rep, errstr, errstr_size))
		goto err;
	cs_keys_stats(key, sizeof(key), opts->key_prefix);
	if (!(r = cs__cmd_array(rc, errstr, errstr_size, "HMGET", key, "HMGET %s %s %s", key, CS_KEYS_STAT_EVENTS,
				CS_KEYS_STAT_HITS)))
		goto err;
	if ((r->element[0]->type != REDIS_REPLY_NIL && cs__count(r->element[0], &rep->events)) ||
	    (r->element[1]->type != REDIS_REPLY_NIL && cs__count(r->element[1], &rep->hits))) {
		cs_errstr_set(errstr, errstr_size, "%s: events or hits is not a count", key);
		goto err;
	}
	freeReplyObject(r);
	freeReplyObject(wins);
	redisFree(rc);
	if (rep->cnt)
		qsort(rep->rows, rep->cnt, sizeof(*rep->rows), cs__row_cmp);
	return rep;

nomem:
	cs_errstr_set(errstr, errstr_size, "out of memory");
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
	}
	fprintf(fp, "%zu rows, %lld hits in range (%lld s windows); all time: %lld events, %lld hits\n",
		rep->cnt, (long long)rep->shown_hits, (long long)rep->window_s, (long long)rep->events,
		(long long)rep->hits);
}


void cs_report_print_jsonl(const cs_report_t *rep, FILE *fp) {
	for (size_t i = 0; i < rep->cnt; i++) {
		char ts[32];
		cs_jw_t jw;
		cs_time_format_iso8601(rep->rows[i].window, ts, sizeof(ts));
		cs_jw_init(&jw, fp);
		cs_jw_obj_begin(&jw);
		cs_jw_kint(&jw, "window", rep->rows[i].window);
		cs_jw_kstr(&jw, "window_utc", ts);
		cs_jw_kstr(&jw, "indicator", rep->rows[i].indicator);
		cs_jw_kstr(&jw, "tlp", cs_tlp2str(rep->rows[i].tlp));
		cs_jw_kint(&jw, "hits", rep->rows[i].hits);
		cs_jw_obj_end(&jw);
		fputc('\n', fp);
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
