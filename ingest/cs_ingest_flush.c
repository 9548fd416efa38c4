/*
 * cs_ingest_flush.c - encodes one flush as the call of cs_ingest_flush.lua.
 *
 * DESIGN: the worker's thread, once per flush; no Redis, no I/O (tested
 * without a server). Every key name and field comes from common/cs_keys.h.
 * Strings are appended to one arena per list (the key table, the kinds, each
 * section) and pointed at once the call is complete, so a flush of thousands
 * of counts costs a few allocations, not one per argument.
 */
#include <stdio.h>
#include <string.h>
#include <stdarg.h>

#include "cs_ingest_flush.h"
#include "cs_keys.h"

/* A list of NUL-terminated strings in one arena. */
typedef struct cs__sv_s {
	char *buf;
	size_t len, cap;
	size_t *off, *lens;
	size_t cnt, ocap;
} cs__sv_t;

static int cs__sv_addn(cs__sv_t *v, const char *s, size_t n) {
	if (v->len + n + 1 > v->cap) {
		size_t ncap = v->cap ? v->cap : 4096;
		char *nb;
		while (ncap < v->len + n + 1)
			ncap *= 2;
		if (!(nb = cs_realloc(v->buf, ncap)))
			return -1;
		v->buf = nb;
		v->cap = ncap;
	}
	if (v->cnt == v->ocap) {
		size_t ncap = v->ocap ? v->ocap * 2 : 64;
		size_t *no = cs_reallocarray(v->off, ncap, sizeof(*no)), *nl;
		if (!no)
			return -1;
		v->off = no;
		if (!(nl = cs_reallocarray(v->lens, ncap, sizeof(*nl))))
			return -1;
		v->lens = nl;
		v->ocap = ncap;
	}
	memcpy(v->buf + v->len, s, n);
	v->buf[v->len + n] = '\0';
	v->off[v->cnt] = v->len;
	v->lens[v->cnt++] = n;
	v->len += n + 1;
	return 0;
}

static int cs__sv_add(cs__sv_t *v, const char *s) {
	return cs__sv_addn(v, s, strlen(s));
}

static int cs__sv_addi(cs__sv_t *v, long long i) {
	char b[24];
	return cs__sv_addn(v, b, (size_t)snprintf(b, sizeof(b), "%lld", i));
}

static const char *cs__sv_at(const cs__sv_t *v, size_t i) {
	return v->buf + v->off[i];
}

static void cs__sv_free(cs__sv_t *v) {
	cs_free(v->buf);
	cs_free(v->off);
	cs_free(v->lens);
	memset(v, 0, sizeof(*v));
}

struct cs_ingest_flush_s {
	cs__sv_t keys, kinds;
	cs__sv_t sec[CS_INGEST_FLUSH__SEC_CNT];
	size_t rec[CS_INGEST_FLUSH__SEC_CNT];
	cs__sv_t args;              /* ARGV, assembled */
	struct cs__kslot_s {        /* key -> index in keys (+1; 0 = free slot) */
		uint64_t hash;
		uint32_t idx;
	} *slots;
	size_t slot_size;
	struct cs__windex_s {       /* the windows already put in an index P:wins:T */
		size_t key;
		int64_t window;
	} *windows;
	size_t window_cnt, window_cap;
	const char **argv;          /* the whole command, assembled once (cs_ingest_flush_argv()) */
	size_t *argvlen;
	int argc;
	char sha[41], nkeys[24];
};

static const int cs__widths[] = {
#define CS__FW(name, width) width,
	CS_INGEST_FLUSH_SECTIONS(CS__FW)
#undef CS__FW
};

int cs_ingest_flush_sec_width(cs_ingest_flush_sec_t sec) {
	return (unsigned)sec < CS_INGEST_FLUSH__SEC_CNT ? cs__widths[sec] : 0;
}

static uint64_t cs__khash(const char *s, size_t n) {
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

/*
 * The index (1-based, as in Lua's KEYS) of key name[0..n) of the given kind,
 * added to the table when new (*added set). 0 on out of memory.
 */
static size_t cs__key(cs_ingest_flush_t *f, const char *name, size_t n, const char *kind, int *added) {
	uint64_t h = cs__khash(name, n);
	size_t j;
	if (added)
		*added = 0;
	if ((f->keys.cnt + 1) * 2 > f->slot_size) {
		size_t nsize = f->slot_size ? f->slot_size * 2 : 256;
		struct cs__kslot_s *ns = cs_calloc(nsize, sizeof(*ns));
		if (!ns)
			return 0;
		for (size_t i = 0; i < f->slot_size; i++) {
			if (!f->slots[i].idx)
				continue;
			for (j = f->slots[i].hash & (nsize - 1); ns[j].idx; j = (j + 1) & (nsize - 1))
				;
			ns[j] = f->slots[i];
		}
		cs_free(f->slots);
		f->slots = ns;
		f->slot_size = nsize;
	}
	for (j = h & (f->slot_size - 1); f->slots[j].idx; j = (j + 1) & (f->slot_size - 1)) {
		size_t k = f->slots[j].idx - 1;
		if (f->slots[j].hash == h && f->keys.lens[k] == n && !memcmp(cs__sv_at(&f->keys, k), name, n))
			return k + 1;
	}
	if (cs__sv_addn(&f->keys, name, n) || cs__sv_add(&f->kinds, kind))
		return 0;
	f->slots[j].hash = h;
	f->slots[j].idx = (uint32_t)f->keys.cnt;
	if (added)
		*added = 1;
	return f->keys.cnt;
}

/* One record of a section: the key index (0: none, the OFFSETS section) then the strings. */
static int cs__rec(cs_ingest_flush_t *f, cs_ingest_flush_sec_t sec, size_t key, ...) {
	cs__sv_t *v = &f->sec[sec];
	int n = cs__widths[sec] - (key ? 1 : 0);
	va_list ap;
	int err = 0;
	if (key && cs__sv_addi(v, (long long)key))
		return -1;
	va_start(ap, key);
	for (int i = 0; i < n && !err; i++)
		err = cs__sv_add(v, va_arg(ap, const char *));
	va_end(ap);
	if (!err)
		f->rec[sec]++;
	return err;
}

static const char *cs__i64(char *b, int64_t v) {
	snprintf(b, 24, "%lld", (long long)v);
	return b;
}

/* The key table's index of a key built by one of cs_keys_*() into kb (-1: too long). */
#define CS__KEY(f, kb, len, kind, added) ((len) < 0 ? 0 : cs__key((f), (kb), (size_t)(len), (kind), (added)))

/* A window's key (win, dim, roll) was added: the window joins its index P:wins:T (key wins), once. */
static int cs__window_indexed(cs_ingest_flush_t *f, size_t wins, int64_t window) {
	char b[24];
	for (size_t i = 0; i < f->window_cnt; i++)
		if (f->windows[i].key == wins && f->windows[i].window == window)
			return 0;
	if (cs_array_reserve(&f->windows, &f->window_cap, f->window_cnt + 1, sizeof(*f->windows)))
		return -1;
	f->windows[f->window_cnt].key = wins;
	f->windows[f->window_cnt++].window = window;
	return cs__rec(f, CS_INGEST_FLUSH_ZADD, wins, cs__i64(b, window), b);
}

/* A key's kind with its expiry: "hash+<ttl>", or "hash" when it does not expire. */
static const char *cs__kind_ttl(char *b, size_t size, const char *kind, int64_t ttl) {
	if (ttl > 0)
		snprintf(b, size, "%s+%lld", kind, (long long)ttl);
	else
		snprintf(b, size, "%s", kind);
	return b;
}

/*
 * A roll-up count (into the hour's and the day's bucket, each indexed in its
 * P:wins:T), or a participant seen (P:part:<id>: who it is, its latest window).
 */
static int cs__encode_roll(cs_ingest_flush_t *f, const cs_ingest_conf_t *conf, const cs_ingest_dim_ent_t *e) {
	static const int64_t tiers[2] = {CS_KEYS_TIER_HOUR, CS_KEYS_TIER_DAY};
	const char *pre = conf->key_prefix;
	char kb[CS_KEYS_MAX], kind[48], n[24];
	size_t k, wins;
	int added;

	if (e->kind == CS_INGEST_DIM_PART) {
		static const char *const names[] = {CS_KEYS_PART_NAME, CS_KEYS_PART_KIND, CS_KEYS_PART_MS,
						    CS_KEYS_PART_SECTOR, CS_KEYS_PART_TLP};
		const char *m = e->member;
		if (!(k = CS__KEY(f, kb, cs_keys_part(kb, sizeof(kb), pre, e->field), "hash", &added)))
			return -1;
		for (size_t i = 0; i < sizeof(names) / sizeof(*names) && *m; i++) {
			const char *end = strchr(m, '\x1f');
			char v[1024];
			size_t len = end ? (size_t)(end - m) : strlen(m);
			snprintf(v, sizeof(v), "%.*s", (int)len, m);
			if (cs__rec(f, CS_INGEST_FLUSH_HSET, k, names[i], v))
				return -1;
			m += len + (end ? 1 : 0);
		}
		return cs__rec(f, CS_INGEST_FLUSH_HMAX, k, CS_KEYS_PART_LAST, cs__i64(n, e->count));
	}
	for (int t = 0; t < 2; t++) {
		int64_t T = tiers[t], start = e->window >= 0 ? e->window / T * T : -((-e->window + T - 1) / T) * T;
		cs__kind_ttl(kind, sizeof(kind), "hash", t == 0 ? conf->hour_ttl_s : conf->day_ttl_s);
		if (!(wins = CS__KEY(f, kb, cs_keys_wins(kb, sizeof(kb), pre, T), "zset", NULL)) ||
		    !(k = CS__KEY(f, kb, cs_keys_roll(kb, sizeof(kb), pre, T, start), kind, &added)) ||
		    (added && cs__window_indexed(f, wins, start)) ||
		    cs__rec(f, CS_INGEST_FLUSH_HINCRBY, k, e->field, cs__i64(n, e->count)))
			return -1;
	}
	return 0;
}

static int cs__encode_counts(cs_ingest_flush_t *f, const cs_ingest_conf_t *conf, const cs_ingest_agg_t *agg,
			     const cs_corr_db_t *db) {
	const char *pre = conf->key_prefix;
	int64_t W = conf->window_s, hits = 0, sup = 0;
	char kb[CS_KEYS_MAX], fb[CS_KEYS_MAX], n[24];
	size_t stats, wins, k;
	int added;

	if (!(stats = CS__KEY(f, kb, cs_keys_stats(kb, sizeof(kb), pre), "hash", NULL)) ||
	    !(wins = CS__KEY(f, kb, cs_keys_wins(kb, sizeof(kb), pre, W), "zset", NULL)))
		return -1;
	if (cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_EVENTS, cs__i64(n, agg->events)) ||
	    (agg->late && cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_LATE, cs__i64(n, agg->late))) ||
	    (agg->future && cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_FUTURE, cs__i64(n, agg->future))) ||
	    (agg->strings_skipped && cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_STRINGS_SKIPPED,
					     cs__i64(n, agg->strings_skipped))) ||
	    (agg->obs_dropped &&
	     cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_OBS_DROPPED, cs__i64(n, agg->obs_dropped))))
		return -1;
	for (int r = 0; r < CS_DECODE_REJECT__CNT; r++) {
		if (!agg->rejects[r])
			continue;
		if (!(k = CS__KEY(f, kb, cs_keys_rejects(kb, sizeof(kb), pre), "hash", NULL)) ||
		    cs__rec(f, CS_INGEST_FLUSH_HINCRBY, k, cs_decode_reject2code((cs_decode_reject_t)r),
			    cs__i64(n, agg->rejects[r])))
			return -1;
	}
	for (size_t s = 0; s < agg->suppressed_cnt; s++) {
		if (!agg->suppressed[s])
			continue;
		sup += agg->suppressed[s];
		if (!(k = CS__KEY(f, kb, cs_keys_suppressed(kb, sizeof(kb), pre), "hash", NULL)) ||
		    cs__rec(f, CS_INGEST_FLUSH_HINCRBY, k, cs_corr_db_warninglist(db, s), cs__i64(n, agg->suppressed[s])))
			return -1;
	}
	if (sup && cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_SUPPRESSED, cs__i64(n, sup)))
		return -1;
	/* dimension counts and the distinct sources of each indicator */
	for (size_t i = 0; i < agg->dim_size; i++) {
		const cs_ingest_dim_ent_t *e = &agg->dims[i];
		if (!e->field)
			continue;
		if (e->kind == CS_INGEST_DIM_ESC)
			continue; /* cs__encode_escalations() */
		if (e->kind == CS_INGEST_DIM_ROLL || e->kind == CS_INGEST_DIM_PART) {
			if (cs__encode_roll(f, conf, e))
				return -1;
			continue;
		}
		if (e->kind == CS_INGEST_DIM_SRC) {
			if (!(k = CS__KEY(f, kb, cs_keys_src(kb, sizeof(kb), pre, W, e->window, e->field), "hll+", NULL)) ||
			    cs__rec(f, CS_INGEST_FLUSH_PFADD, k, e->member))
				return -1;
			continue;
		}
		if (!(k = CS__KEY(f, kb, cs_keys_dim(kb, sizeof(kb), pre, W, e->window), "hash+", &added)) ||
		    (added && cs__window_indexed(f, wins, e->window)) ||
		    cs__rec(f, CS_INGEST_FLUSH_HINCRBY, k, e->field, cs__i64(n, e->count)))
			return -1;
	}
	/* hits per (window, indicator, TLP): the window's totals, its per-TLP parts, the day's top */
	for (size_t i = 0; i < agg->size; i++) {
		const cs_ingest_agg_ent_t *e = &agg->ents[i];
		const char *v;
		if (!e->used)
			continue;
		v = cs_corr_db_indicator(db, e->ind)->value;
		cs__i64(n, e->count);
		hits += e->count;
		if (!(k = CS__KEY(f, kb, cs_keys_win(kb, sizeof(kb), pre, W, e->window), "hash+", &added)) ||
		    (added && cs__window_indexed(f, wins, e->window)) || cs__rec(f, CS_INGEST_FLUSH_HINCRBY, k, v, n) ||
		    !(k = CS__KEY(f, kb, cs_keys_wtlp(kb, sizeof(kb), pre, W, e->window), "hash+", NULL)) ||
		    cs_keys_wtlp_field(fb, sizeof(fb), (cs_tlp_t)e->tlp, v) < 0 ||
		    cs__rec(f, CS_INGEST_FLUSH_HINCRBY, k, fb, n) ||
		    !(k = CS__KEY(f, kb, cs_keys_top(kb, sizeof(kb), pre, e->window, (cs_tlp_t)e->tlp), "zset+", NULL)) ||
		    cs__rec(f, CS_INGEST_FLUSH_ZINCRBY, k, v, n))
			return -1;
	}
	if (hits && cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_HITS, cs__i64(n, hits)))
		return -1;
	return 0;
}

/* What the report needs of each indicator counted in the batch: P:ind:<value>, a field each. */
static int cs__encode_indicators(cs_ingest_flush_t *f, const cs_ingest_conf_t *conf, const cs_ingest_agg_t *agg,
				 const cs_corr_db_t *db, int seen) {
	char kb[CS_KEYS_MAX], fb[64], n[24], w[24];
	for (size_t i = 0; i < agg->size; i++) {
		const cs_ingest_agg_ent_t *e = &agg->ents[i];
		const cs_corr_ind_t *ind;
		size_t k;
		int added;
		if (!e->used)
			continue;
		ind = cs_corr_db_indicator(db, e->ind);
		if (!(k = CS__KEY(f, kb, cs_keys_ind(kb, sizeof(kb), conf->key_prefix, ind->value), "hash", &added)))
			return -1;
		/* when it was hit, per TLP of the hits: first and last window (live hits only) */
		if (seen && (cs_keys_ind_seen_field(fb, sizeof(fb), CS_KEYS_IND_FIRST, (cs_tlp_t)e->tlp) < 0 ||
			     cs__rec(f, CS_INGEST_FLUSH_HMIN, k, fb, cs__i64(w, e->window)) ||
			     cs_keys_ind_seen_field(fb, sizeof(fb), CS_KEYS_IND_LAST, (cs_tlp_t)e->tlp) < 0 ||
			     cs__rec(f, CS_INGEST_FLUSH_HMAX, k, fb, w)))
			return -1;
		if (!added)
			continue; /* the same indicator in another window or under another TLP */
		if (ind->confidence >= 0)
			snprintf(n, sizeof(n), "%d", ind->confidence);
		else
			n[0] = '\0'; /* none given */
		if (cs__rec(f, CS_INGEST_FLUSH_HSET, k, CS_KEYS_IND_TYPE,
			    ind->pattern ? "pattern" : cs_obs_type2str(ind->type)) ||
		    cs__rec(f, CS_INGEST_FLUSH_HSET, k, CS_KEYS_IND_TLP, cs_tlp2str(ind->tlp)) ||
		    cs__rec(f, CS_INGEST_FLUSH_HSET, k, CS_KEYS_IND_SOURCE, ind->source) ||
		    cs__rec(f, CS_INGEST_FLUSH_HSET, k, CS_KEYS_IND_TAGS, ind->tags) ||
		    cs__rec(f, CS_INGEST_FLUSH_HSET, k, CS_KEYS_IND_CONFIDENCE, n) ||
		    cs__rec(f, CS_INGEST_FLUSH_HSET, k, CS_KEYS_IND_ID, ind->origin))
			return -1;
	}
	return 0;
}

/*
 * A retro-hunt's batch: its hits per (window, indicator, TLP) into P:retro
 * (indexed in P:retro:wins), the events it read again and the hits in P:stats
 * under retro_* names; nothing of the live counts.
 */
static int cs__encode_retro(cs_ingest_flush_t *f, const cs_ingest_conf_t *conf, const cs_ingest_agg_t *agg,
			    const cs_corr_db_t *db) {
	const char *pre = conf->key_prefix;
	char kb[CS_KEYS_MAX], fb[CS_KEYS_MAX], n[24];
	size_t stats, wins, k;
	int added;
	if (!(stats = CS__KEY(f, kb, cs_keys_stats(kb, sizeof(kb), pre), "hash", NULL)) ||
	    !(wins = CS__KEY(f, kb, cs_keys_retro_wins(kb, sizeof(kb), pre, conf->window_s), "zset", NULL)) ||
	    cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_RETRO_EVENTS, cs__i64(n, agg->events)) ||
	    (agg->hits && cs__rec(f, CS_INGEST_FLUSH_HINCRBY, stats, CS_KEYS_STAT_RETRO_HITS, cs__i64(n, agg->hits))))
		return -1;
	for (size_t i = 0; i < agg->size; i++) {
		const cs_ingest_agg_ent_t *e = &agg->ents[i];
		if (!e->used)
			continue;
		if (!(k = CS__KEY(f, kb, cs_keys_retro(kb, sizeof(kb), pre, conf->window_s, e->window), "hash+", &added)) ||
		    (added && cs__window_indexed(f, wins, e->window)) ||
		    cs_keys_wtlp_field(fb, sizeof(fb), (cs_tlp_t)e->tlp, cs_corr_db_indicator(db, e->ind)->value) < 0 ||
		    cs__rec(f, CS_INGEST_FLUSH_HINCRBY, k, fb, cs__i64(n, e->count)))
			return -1;
	}
	return 0;
}

/*
 * The escalation rule's input: per (indicator, window, participant) the hits
 * (section ESC), and once, its parameters and the streams it may write to
 * (ESCCONF). The script decides (cs_ingest_flush.lua, docs/ESCALATION.md).
 */
static int cs__encode_escalations(cs_ingest_flush_t *f, const cs_ingest_conf_t *conf, const cs_ingest_agg_t *agg) {
	char kb[CS_KEYS_MAX], kind[48], win[24], n[24], streams[128], p[24], q[24], k[24], ms[24], ml[24];
	size_t ks[CS_TLP__CNT], len = 0;
	int any = 0;
	for (size_t i = 0; i < agg->dim_size; i++) {
		const cs_ingest_dim_ent_t *e = &agg->dims[i];
		size_t ke, ki;
		if (!e->field || e->kind != CS_INGEST_DIM_ESC)
			continue;
		if (!any) {
			for (int t = 0; t < CS_TLP__CNT; t++) {
				if (!(ks[t] = CS__KEY(f, kb, cs_keys_escalations(kb, sizeof(kb), conf->key_prefix, (cs_tlp_t)t),
						      "stream", NULL)))
					return -1;
				len += (size_t)snprintf(streams + len, sizeof(streams) - len, "%s%zu", t ? "," : "", ks[t]);
			}
			if (cs__rec(f, CS_INGEST_FLUSH_ESCCONF, 0, cs__i64(p, conf->esc_period_s),
				    cs__i64(q, conf->esc_quiet_s), cs__i64(k, conf->esc_participants),
				    cs__i64(ms, conf->esc_member_states), cs__i64(ml, conf->esc_stream_maxlen), streams,
				    conf->retro ? "retro" : "live"))
				return -1;
			any = 1;
		}
		/* the state outlives what it decides: the period and the quiet period, twice */
		cs__kind_ttl(kind, sizeof(kind), "hash", 2 * (conf->esc_period_s + conf->esc_quiet_s));
		if (!(ke = CS__KEY(f, kb, cs_keys_esc(kb, sizeof(kb), conf->key_prefix, e->field), kind, NULL)) ||
		    !(ki = CS__KEY(f, kb, cs_keys_ind(kb, sizeof(kb), conf->key_prefix, e->field), "hash", NULL)) ||
		    cs__rec(f, CS_INGEST_FLUSH_ESC, ke, cs__i64(n, (int64_t)ki), e->field, cs__i64(win, e->window),
			    e->member, cs__i64(kb, e->count)))
			return -1;
	}
	return 0;
}

static int cs__encode_alerts(cs_ingest_flush_t *f, const cs_ingest_conf_t *conf, const cs_ingest_agg_t *agg) {
	char kb[CS_KEYS_MAX], maxlen[24];
	size_t k[CS_TLP__CNT] = {0};
	if (!agg->alert_cnt)
		return 0;
	cs__i64(maxlen, conf->alerts_stream_maxlen > 0 ? conf->alerts_stream_maxlen : 1);
	for (size_t i = 0; i < agg->alert_cnt; i++) {
		cs_tlp_t t = (cs_tlp_t)agg->alert_tlp[i];
		/* one stream per TLP: a reader of an audience reads those at or below it */
		if (!k[t] && !(k[t] = CS__KEY(f, kb, cs_keys_alerts(kb, sizeof(kb), conf->key_prefix, t), "stream", NULL)))
			return -1;
		if (cs__rec(f, CS_INGEST_FLUSH_XADD, k[t], maxlen, CS_KEYS_ALERT_ID, agg->alerts[2 * i], CS_KEYS_ALERT_JSON,
			    agg->alerts[2 * i + 1]))
			return -1;
	}
	return 0;
}

static int cs__encode_offsets(cs_ingest_flush_t *f, const cs_ingest_part_t *parts, size_t cnt) {
	char fb[CS_KEYS_MAX], s[24], nx[24];
	for (size_t i = 0; i < cnt; i++) {
		if (parts[i].next < 0 || parts[i].next == parts[i].start)
			continue;
		if (cs_keys_off_field(fb, sizeof(fb), parts[i].topic, parts[i].partition) < 0 ||
		    cs__rec(f, CS_INGEST_FLUSH_OFFSETS, 0, fb, parts[i].start < 0 ? "-" : cs__i64(s, parts[i].start),
			    cs__i64(nx, parts[i].next)))
			return -1;
	}
	return 0;
}

/* ARGV: the tag, the ttl, the kinds, then each section's count and records. */
static int cs__assemble(cs_ingest_flush_t *f, const cs_ingest_conf_t *conf) {
	if (cs__sv_add(&f->args, CS_INGEST_FLUSH_TAG) || cs__sv_addi(&f->args, (long long)conf->ttl_s))
		return -1;
	for (size_t i = 0; i < f->kinds.cnt; i++)
		if (cs__sv_addn(&f->args, cs__sv_at(&f->kinds, i), f->kinds.lens[i]))
			return -1;
	for (int s = 0; s < CS_INGEST_FLUSH__SEC_CNT; s++) {
		if (cs__sv_addi(&f->args, (long long)f->rec[s]))
			return -1;
		for (size_t i = 0; i < f->sec[s].cnt; i++)
			if (cs__sv_addn(&f->args, cs__sv_at(&f->sec[s], i), f->sec[s].lens[i]))
				return -1;
		cs__sv_free(&f->sec[s]); /* copied */
	}
	return 0;
}

cs_ingest_flush_t *cs_ingest_flush_encode(const cs_ingest_conf_t *conf, const cs_ingest_agg_t *agg,
					  const cs_corr_db_t *db, const cs_ingest_part_t *parts, size_t cnt,
					  char *errstr, size_t errstr_size) {
	cs_ingest_flush_t *f = cs_calloc(1, sizeof(*f));
	char kb[CS_KEYS_MAX];
	if (!f)
		goto err;
	/* KEYS[1]: the offsets hash */
	if (!CS__KEY(f, kb, cs_keys_off(kb, sizeof(kb), conf->key_prefix, conf->group_id), "hash", NULL) ||
	    (conf->retro ? cs__encode_retro(f, conf, agg, db) : cs__encode_counts(f, conf, agg, db)) ||
	    cs__encode_indicators(f, conf, agg, db, !conf->retro) ||
	    cs__encode_escalations(f, conf, agg) ||
	    cs__encode_alerts(f, conf, agg) || cs__encode_offsets(f, parts, cnt) || cs__assemble(f, conf))
		goto err;
	return f;
err:
	/* every key and field is bounded by CS_KEYS_MAX (values are at most 4096 bytes): memory it is */
	cs_errstr_set(errstr, errstr_size, "out of memory encoding a flush");
	cs_ingest_flush_destroy(f);
	return NULL;
}

int cs_ingest_flush_argv(cs_ingest_flush_t *f, const char *sha, const char ***argv, const size_t **argvlen) {
	size_t n = 3 + f->keys.cnt + f->args.cnt, j = 0;
	static char evalsha[] = "EVALSHA";
	if (!f->argv) {
		if (!(f->argv = cs_calloc(n + 1, sizeof(*f->argv))) || !(f->argvlen = cs_calloc(n + 1, sizeof(*f->argvlen))))
			return -1;
		snprintf(f->sha, sizeof(f->sha), "%s", sha);
		snprintf(f->nkeys, sizeof(f->nkeys), "%zu", f->keys.cnt);
		f->argv[j] = evalsha, f->argvlen[j++] = 7;
		f->argv[j] = f->sha, f->argvlen[j++] = strlen(f->sha);
		f->argv[j] = f->nkeys, f->argvlen[j++] = strlen(f->nkeys);
		for (size_t i = 0; i < f->keys.cnt; i++)
			f->argv[j] = cs__sv_at(&f->keys, i), f->argvlen[j++] = f->keys.lens[i];
		for (size_t i = 0; i < f->args.cnt; i++)
			f->argv[j] = cs__sv_at(&f->args, i), f->argvlen[j++] = f->args.lens[i];
		f->argc = (int)n;
	}
	*argv = f->argv;
	*argvlen = f->argvlen;
	return f->argc;
}

size_t cs_ingest_flush_nkeys(const cs_ingest_flush_t *f) {
	return f->keys.cnt;
}

size_t cs_ingest_flush_nargs(const cs_ingest_flush_t *f) {
	return f->args.cnt;
}

size_t cs_ingest_flush_records(const cs_ingest_flush_t *f, cs_ingest_flush_sec_t sec) {
	return (unsigned)sec < CS_INGEST_FLUSH__SEC_CNT ? f->rec[sec] : 0;
}

void cs_ingest_flush_destroy(cs_ingest_flush_t *f) {
	if (!f)
		return;
	cs__sv_free(&f->keys);
	cs__sv_free(&f->kinds);
	cs__sv_free(&f->args);
	for (int s = 0; s < CS_INGEST_FLUSH__SEC_CNT; s++)
		cs__sv_free(&f->sec[s]);
	cs_free(f->slots);
	cs_free(f->windows);
	cs_free(f->argv);
	cs_free(f->argvlen);
	cs_free(f);
}
