/*
 * cs_report_sit.c - the situation of a period: the roll-up counts of the
 * period and of the one before it, the participants and the indicators, as
 * Redis holds them (cs_report_sit.h).
 *
 * DESIGN: read-only on Redis, one connection, every read pipelined (a 30-day
 * report is 60 bucket hashes, then one hash per participant and per indicator
 * hit). Strings are interned once; a count is 32 bytes. Read strictly: a
 * field that is not a roll-up field, a count that is not one, a key of the
 * wrong type stop the report with the key named.
 */
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

#include "cs_report_int.h"
#include "cs_report.h"
#include "cs_keys.h"

static uint64_t cs__hash(const char *s, size_t len) {
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ^ (h >> 31);
}

long cs__intern(cs__intern_t *t, const char *s, size_t len) {
	size_t j;
	if ((t->cnt + 1) * 2 > t->size) {
		size_t nsize = t->size ? t->size * 2 : 256;
		uint32_t *ns = cs_calloc(nsize, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t i = 0; i < t->cnt; i++) {
			for (j = cs__hash(t->v[i], strlen(t->v[i])) & (nsize - 1); ns[j]; j = (j + 1) & (nsize - 1))
				;
			ns[j] = (uint32_t)i + 1;
		}
		cs_free(t->slots);
		t->slots = ns;
		t->size = nsize;
	}
	for (j = cs__hash(s, len) & (t->size - 1); t->slots[j]; j = (j + 1) & (t->size - 1)) {
		const char *v = t->v[t->slots[j] - 1];
		if (!strncmp(v, s, len) && v[len] == '\0')
			return (long)t->slots[j] - 1;
	}
	if (cs_array_reserve(&t->v, &t->cap, t->cnt + 1, sizeof(*t->v)) || !(t->v[t->cnt] = cs_malloc(len + 1)))
		return -1;
	memcpy(t->v[t->cnt], s, len);
	t->v[t->cnt][len] = '\0';
	t->slots[j] = (uint32_t)++t->cnt;
	return (long)t->cnt - 1;
}

long cs__intern_find(const cs__intern_t *t, const char *s) {
	size_t len = strlen(s);
	if (!t->size)
		return -1;
	for (size_t j = cs__hash(s, len) & (t->size - 1); t->slots[j]; j = (j + 1) & (t->size - 1))
		if (!strcmp(t->v[t->slots[j] - 1], s))
			return (long)t->slots[j] - 1;
	return -1;
}

void cs__intern_free(cs__intern_t *t) {
	for (size_t i = 0; i < t->cnt; i++)
		cs_free(t->v[i]);
	cs_free(t->v);
	cs_free(t->slots);
	memset(t, 0, sizeof(*t));
}

cs_report_sit_t *cs_report_sit_new(int64_t from, int64_t to, int64_t tier) {
	cs_report_sit_t *s;
	if (tier <= 0 || to <= from || (to - from) % tier || !(s = cs_calloc(1, sizeof(*s))))
		return NULL;
	s->from = from;
	s->to = to;
	s->tier = tier;
	s->nb = (to - from) / tier;
	return s;
}

void cs_report_sit_period(const cs_report_sit_t *s, int64_t *from, int64_t *to, int64_t *tier) {
	*from = s->from;
	*to = s->to;
	*tier = s->tier;
}

size_t cs_report_sit_counts(const cs_report_sit_t *s) {
	return s->cnt;
}

static const char *const cs__what_codes[CS__R__CNT] = {
	CS_KEYS_ROLL_EVENTS, CS_KEYS_ROLL_LATE,     CS_KEYS_ROLL_REJECT,   CS_KEYS_ROLL_FORMAT,
	CS_KEYS_ROLL_IND,    CS_KEYS_ROLL_CATEGORY, CS_KEYS_ROLL_SEVERITY, CS_KEYS_ROLL_SUPPRESSED};
/* which kinds carry a value after their code */
static const int cs__what_valued[CS__R__CNT] = {0, 0, 1, 1, 1, 1, 1, 1};

int cs_report_sit_add(cs_report_sit_t *s, int64_t bucket, const char *field, int64_t n, char *errstr,
		      size_t errstr_size) {
	cs_keys_roll_t r;
	cs__fact_t *f;
	int64_t b0 = s->from - (s->to - s->from);
	long org, val = -1;
	int w;

	if (cs_keys_roll_parse(field, &r)) {
		cs_errstr_set(errstr, errstr_size, "field \"%.80s\" is not <tlp>|<itlp>|<org>|<what>[|<value>]", field);
		return -1;
	}
	for (w = 0; w < CS__R__CNT; w++)
		if (strlen(cs__what_codes[w]) == r.what_len && !memcmp(cs__what_codes[w], r.what, r.what_len))
			break;
	if (w == CS__R__CNT || !cs__what_valued[w] != !r.value || (w >= CS__R_IND) != (r.itlp >= 0)) {
		cs_errstr_set(errstr, errstr_size, "field \"%.80s\" counts nothing cshield writes", field);
		return -1;
	}
	if (n < 0) {
		cs_errstr_set(errstr, errstr_size, "field \"%.80s\" holds %lld, not a count", field, (long long)n);
		return -1;
	}
	if (bucket < b0 || bucket >= s->to || (bucket - b0) % s->tier)
		return 0; /* not a bucket of these periods */
	if (!n)
		return 0;
	if ((org = cs__intern(&s->orgs, r.org, r.org_len)) < 0 ||
	    (r.value && (val = cs__intern(&s->vals, r.value, strlen(r.value))) < 0) ||
	    cs_array_reserve(&s->facts, &s->cap, s->cnt + 1, sizeof(*s->facts))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return -1;
	}
	f = &s->facts[s->cnt++];
	f->n = n;
	f->org = (uint32_t)org;
	f->val = val < 0 ? UINT32_MAX : (uint32_t)val;
	f->b = (int32_t)((bucket - b0) / s->tier);
	f->tlp = (uint8_t)r.tlp;
	f->itlp = (int8_t)r.itlp;
	f->what = (uint8_t)w;
	return 0;
}

int cs_report_sit_add_part(cs_report_sit_t *s, const char *id, const char *name, const char *kind, const char *ms,
			   const char *sector, cs_tlp_t tlp, int64_t last_event) {
	long org = cs__intern(&s->orgs, id, strlen(id));
	cs__part_t *p;
	if (org < 0 || cs_array_reserve(&s->parts, &s->part_cap, s->part_cnt + 1, sizeof(*s->parts)))
		return -1;
	p = &s->parts[s->part_cnt];
	memset(p, 0, sizeof(*p));
	p->org = (uint32_t)org;
	p->tlp = tlp;
	p->last_event = last_event;
	if (!(p->name = cs_strdup(name ? name : "")) || !(p->kind = cs_strdup(kind ? kind : "unknown")) ||
	    !(p->ms = cs_strdup(ms && *ms ? ms : "XX")) || !(p->sector = cs_strdup(sector && *sector ? sector : "unknown"))) {
		cs_free(p->name);
		cs_free(p->kind);
		cs_free(p->ms);
		return -1;
	}
	s->part_cnt++;
	return 0;
}

int cs_report_sit_add_ind(cs_report_sit_t *s, const char *value, const char *type, cs_tlp_t tlp, const char *source,
			  const char *tags, int confidence, const int64_t first[CS_TLP__CNT],
			  const int64_t last[CS_TLP__CNT]) {
	long val = cs__intern(&s->vals, value, strlen(value));
	cs__ind_t *d;
	if (val < 0 || cs_array_reserve(&s->inds, &s->ind_cap, s->ind_cnt + 1, sizeof(*s->inds)))
		return -1;
	d = &s->inds[s->ind_cnt];
	memset(d, 0, sizeof(*d));
	d->val = (uint32_t)val;
	d->tlp = tlp;
	d->confidence = confidence;
	memcpy(d->first, first, sizeof(d->first));
	memcpy(d->last, last, sizeof(d->last));
	if (!(d->type = cs_strdup(type ? type : "")) || !(d->source = cs_strdup(source ? source : "")) ||
	    !(d->tags = cs_strdup(tags ? tags : ""))) {
		cs_free(d->type);
		cs_free(d->source);
		return -1;
	}
	s->ind_cnt++;
	return 0;
}

void cs_report_sit_destroy(cs_report_sit_t *s) {
	if (!s)
		return;
	for (size_t i = 0; i < s->part_cnt; i++) {
		cs_free(s->parts[i].name);
		cs_free(s->parts[i].kind);
		cs_free(s->parts[i].ms);
		cs_free(s->parts[i].sector);
	}
	for (size_t i = 0; i < s->ind_cnt; i++) {
		cs_free(s->inds[i].type);
		cs_free(s->inds[i].source);
		cs_free(s->inds[i].tags);
		cs_free(s->inds[i].origin);
	}
	cs__sit_escs_free(s);
	cs_free(s->parts);
	cs_free(s->inds);
	cs_free(s->facts);
	cs__intern_free(&s->orgs);
	cs__intern_free(&s->vals);
	cs_free(s);
}

/* ---- reading Redis ---- */

/* A reply of a pipelined command that must be an array of field/value pairs (or empty). */
static int cs__pairs(redisReply *r, const char *key, char *errstr, size_t errstr_size) {
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements % 2 == 0) {
		for (size_t i = 0; i < r->elements; i++)
			if (r->element[i]->type != REDIS_REPLY_STRING) {
				cs_errstr_set(errstr, errstr_size, "redis HGETALL %.300s: unexpected reply", key);
				return -1;
			}
		return 0;
	}
	cs_errstr_set(errstr, errstr_size, "redis HGETALL %.300s: %.300s", key,
		      !r ? "no reply" : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	return -1;
}

static const char *cs__get(const redisReply *r, const char *field) {
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (!strcmp(r->element[i]->str, field))
			return r->element[i + 1]->str;
	return NULL;
}

/* An integer field that may be absent (-1); -2 when it is not one. */
static int64_t cs__get_i64(const redisReply *r, const char *field) {
	const char *v = cs__get(r, field);
	int64_t x;
	if (!v)
		return -1;
	return cs_keys_parse_i64(v, strlen(v), &x) ? -2 : x;
}

static int cs__tlp_field(const char *v, cs_tlp_t *t) {
	int x = v ? cs_tlp_parse(v, strlen(v)) : -1;
	*t = x < 0 ? CS_TLP_AMBER : (cs_tlp_t)x; /* unmarked is AMBER */
	return v && x < 0 ? -1 : 0;
}

/* Sends HGETALL of keys[0..n) in one pipeline and hands each reply to fn; stops at the first error. */
static int cs__hgetall_all(redisContext *rc, char **keys, size_t n,
			   int (*fn)(void *ctx, size_t i, redisReply *r, char *errstr, size_t errstr_size), void *ctx,
			   char *errstr, size_t errstr_size) {
	size_t sent = 0, got = 0;
	int rc_ = 0;
	/* in slices, so that a huge report does not queue everything at once */
	while (got < n) {
		for (; sent < n && sent - got < 1024; sent++)
			if (redisAppendCommand(rc, "HGETALL %s", keys[sent]) != REDIS_OK) {
				cs_errstr_set(errstr, errstr_size, "redis: %s", rc->errstr);
				return -1;
			}
		for (; got < sent; got++) {
			redisReply *r = NULL;
			if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
				cs_errstr_set(errstr, errstr_size, "redis HGETALL %.300s: %s", keys[got], rc->errstr);
				return -1;
			}
			if (!rc_ && (cs__pairs(r, keys[got], errstr, errstr_size) || fn(ctx, got, r, errstr, errstr_size)))
				rc_ = -1; /* read the rest of the replies, then stop */
			freeReplyObject(r);
		}
		if (rc_)
			return -1;
	}
	return 0;
}

typedef struct cs__fetch_s {
	cs_report_sit_t *s;
	char **keys;
	int64_t *buckets;
	const char *prefix;
} cs__fetch_t;

static int cs__on_roll(void *ctx, size_t i, redisReply *r, char *errstr, size_t errstr_size) {
	cs__fetch_t *f = ctx;
	for (size_t j = 0; j + 1 < r->elements; j += 2) {
		int64_t n;
		char e[300];
		if (cs_keys_parse_i64(r->element[j + 1]->str, r->element[j + 1]->len, &n) || n < 0) {
			cs_errstr_set(errstr, errstr_size, "%s field \"%.80s\" holds \"%.40s\", not a count", f->keys[i],
				      r->element[j]->str, r->element[j + 1]->str);
			return -1;
		}
		if (cs_report_sit_add(f->s, f->buckets[i], r->element[j]->str, n, e, sizeof(e))) {
			cs_errstr_set(errstr, errstr_size, "%s: %s", f->keys[i], e);
			return -1;
		}
	}
	return 0;
}

static int cs__on_part(void *ctx, size_t i, redisReply *r, char *errstr, size_t errstr_size) {
	cs__fetch_t *f = ctx;
	const char *id = f->keys[i] + strlen(f->prefix) + strlen(":part:");
	cs_tlp_t t;
	int64_t last = cs__get_i64(r, CS_KEYS_PART_LAST);
	if (!r->elements)
		return 0; /* gone since SCAN */
	if (last == -2 || cs__tlp_field(cs__get(r, CS_KEYS_PART_TLP), &t)) {
		cs_errstr_set(errstr, errstr_size, "%s: %s or %s is not what cshield writes", f->keys[i], CS_KEYS_PART_LAST,
			      CS_KEYS_PART_TLP);
		return -1;
	}
	if (cs_report_sit_add_part(f->s, id, cs__get(r, CS_KEYS_PART_NAME), cs__get(r, CS_KEYS_PART_KIND),
				   cs__get(r, CS_KEYS_PART_MS), cs__get(r, CS_KEYS_PART_SECTOR), t, last)) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return -1;
	}
	return 0;
}

int cs_report_sit_ind_origin(cs_report_sit_t *s, const char *value, const char *origin) {
	long val = cs__intern_find(&s->vals, value);
	if (!origin || val < 0)
		return 0;
	for (size_t i = s->ind_cnt; i-- > 0;)
		if (s->inds[i].val == (uint32_t)val) {
			cs_free(s->inds[i].origin);
			return (s->inds[i].origin = cs_strdup(origin)) ? 0 : -1;
		}
	return 0;
}

static int cs__on_ind(void *ctx, size_t i, redisReply *r, char *errstr, size_t errstr_size) {
	cs__fetch_t *f = ctx;
	const char *value = f->keys[i] + strlen(f->prefix) + strlen(":ind:");
	int64_t first[CS_TLP__CNT], last[CS_TLP__CNT], conf;
	const char *cv = cs__get(r, CS_KEYS_IND_CONFIDENCE);
	char fb[64];
	cs_tlp_t t;
	if (!r->elements)
		return 0; /* its metadata is gone: the hits are still counted */
	for (int k = 0; k < CS_TLP__CNT; k++) {
		cs_keys_ind_seen_field(fb, sizeof(fb), CS_KEYS_IND_FIRST, (cs_tlp_t)k);
		first[k] = cs__get_i64(r, fb);
		cs_keys_ind_seen_field(fb, sizeof(fb), CS_KEYS_IND_LAST, (cs_tlp_t)k);
		last[k] = cs__get_i64(r, fb);
		if (first[k] == -2 || last[k] == -2) {
			cs_errstr_set(errstr, errstr_size, "%.300s: %s is not a time", f->keys[i], fb);
			return -1;
		}
	}
	conf = cv && *cv ? (cs_keys_parse_i64(cv, strlen(cv), &conf) || conf < 0 || conf > 100 ? -2 : conf) : -1;
	if (conf == -2 || cs__tlp_field(cs__get(r, CS_KEYS_IND_TLP), &t)) {
		cs_errstr_set(errstr, errstr_size, "%.300s: %s or %s is not what cshield writes", f->keys[i],
			      CS_KEYS_IND_CONFIDENCE, CS_KEYS_IND_TLP);
		return -1;
	}
	if (cs_report_sit_add_ind(f->s, value, cs__get(r, CS_KEYS_IND_TYPE), t, cs__get(r, CS_KEYS_IND_SOURCE),
				  cs__get(r, CS_KEYS_IND_TAGS), (int)conf, first, last) ||
	    cs_report_sit_ind_origin(f->s, value, cs__get(r, CS_KEYS_IND_ID))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return -1;
	}
	return 0;
}

static void cs__keys_free(char **keys, size_t n) {
	for (size_t i = 0; i < n; i++)
		cs_free(keys[i]);
	cs_free(keys);
}

cs_report_sit_t *cs_report_sit_fetch(const cs_report_sit_fetch_opts_t *o, char *errstr, size_t errstr_size) {
	struct timeval tv = {10, 0};
	redisContext *rc = NULL;
	redisReply *r = NULL;
	cs_report_sit_t *s = NULL;
	cs__fetch_t f = {NULL, NULL, NULL, o->key_prefix};
	char key[CS_KEYS_MAX];
	size_t n = 0, cap = 0;
	int64_t tier = o->tier > 0 ? o->tier : o->to - o->from > 7 * 86400 ? CS_KEYS_TIER_DAY : CS_KEYS_TIER_HOUR;
	/* the end rounded up to a bucket, the length too: --last 24h is the 24 hours up to the current one */
	int64_t to = o->to >= 0 ? (o->to + tier - 1) / tier * tier : -((-o->to) / tier) * tier;
	int64_t len = o->to > o->from ? (o->to - o->from + tier - 1) / tier * tier : tier;
	int64_t from = to - len;
	const char *cursor = "0";
	char cur[32];

	if (!(s = f.s = cs_report_sit_new(from, to, tier))) {
		cs_errstr_set(errstr, errstr_size, "out of memory");
		return NULL;
	}
	rc = redisConnectWithTimeout(o->redis_host, o->redis_port, tv);
	if (!rc || rc->err) {
		cs_errstr_set(errstr, errstr_size, "redis %s:%d: %s", o->redis_host, o->redis_port,
			      rc ? rc->errstr : "cannot allocate context");
		goto err;
	}
	redisSetTimeout(rc, tv);
	if (cs_report_auth(rc, o->redis_user, o->redis_password, errstr, errstr_size))
		goto err;
	/* 1. the buckets with data in both periods */
	cs_keys_wins(key, sizeof(key), o->key_prefix, tier);
	r = redisCommand(rc, "ZRANGEBYSCORE %s %lld %lld", key, (long long)(from - (to - from)), (long long)(to - 1));
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		cs_errstr_set(errstr, errstr_size, "redis ZRANGEBYSCORE %s: %s", key,
			      !r ? rc->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		goto err;
	}
	if (!(f.keys = cs_calloc(r->elements + 1, sizeof(*f.keys))) ||
	    !(f.buckets = cs_calloc(r->elements + 1, sizeof(*f.buckets))))
		goto nomem;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *m = r->element[i];
		int64_t b;
		if (m->type != REDIS_REPLY_STRING || cs_keys_parse_i64(m->str, m->len, &b) || b % tier) {
			cs_errstr_set(errstr, errstr_size, "%s holds \"%.40s\", not a bucket start", key,
				      m->type == REDIS_REPLY_STRING ? m->str : "?");
			goto err;
		}
		cs_keys_roll(key, sizeof(key), o->key_prefix, tier, b);
		if (!(f.keys[n] = cs_strdup(key)))
			goto nomem;
		f.buckets[n++] = b;
	}
	freeReplyObject(r);
	r = NULL;
	if (cs__hgetall_all(rc, f.keys, n, cs__on_roll, &f, errstr, errstr_size))
		goto err;
	cs__keys_free(f.keys, n);
	f.keys = NULL;
	n = 0;
	/* 2. every participant (the silent ones too): SCAN P:part:* */
	snprintf(key, sizeof(key), "%s:part:*", o->key_prefix);
	do {
		r = redisCommand(rc, "SCAN %s MATCH %s COUNT 1000", cursor, key);
		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			cs_errstr_set(errstr, errstr_size, "redis SCAN %s: %s", key, !r ? rc->errstr : "unexpected reply");
			goto err;
		}
		snprintf(cur, sizeof(cur), "%s", r->element[0]->str);
		cursor = cur;
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const redisReply *k = r->element[1]->element[i];
			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (cs_array_reserve(&f.keys, &cap, n + 1, sizeof(*f.keys)) || !(f.keys[n] = cs_strdup(k->str)))
				goto nomem;
			n++;
		}
		freeReplyObject(r);
		r = NULL;
	} while (strcmp(cursor, "0"));
	if (cs__hgetall_all(rc, f.keys, n, cs__on_part, &f, errstr, errstr_size))
		goto err;
	cs__keys_free(f.keys, n);
	f.keys = NULL;
	n = cap = 0;
	/* 3. the indicators hit */
	{
		char *seen = cs_calloc(s->vals.cnt + 1, 1);
		if (!seen)
			goto nomem;
		for (size_t i = 0; i < s->cnt; i++) {
			uint32_t v = s->facts[i].val;
			if (s->facts[i].what != CS__R_IND || seen[v])
				continue;
			seen[v] = 1;
			if (cs_keys_ind(key, sizeof(key), o->key_prefix, s->vals.v[v]) < 0)
				continue;
			if (cs_array_reserve(&f.keys, &cap, n + 1, sizeof(*f.keys)) || !(f.keys[n] = cs_strdup(key))) {
				cs_free(seen);
				goto nomem;
			}
			n++;
		}
		cs_free(seen);
	}
	if (cs__hgetall_all(rc, f.keys, n, cs__on_ind, &f, errstr, errstr_size))
		goto err;
	cs__keys_free(f.keys, n);
	f.keys = NULL;
	n = 0;
	/* 4. the escalations raised in the period: every stream, kept by their last hit */
	for (int t = 0; t < CS_TLP__CNT; t++) {
		cs_keys_escalations(key, sizeof(key), o->key_prefix, (cs_tlp_t)t);
		if (!(r = redisCommand(rc, "XRANGE %s - +", key)) || r->type != REDIS_REPLY_ARRAY) {
			cs_errstr_set(errstr, errstr_size, "redis XRANGE %s: %s", key,
				      !r ? rc->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
			goto err;
		}
		for (size_t i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i], *fv;
			char why[256];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || (fv = e->element[1])->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t j = 0; j + 1 < fv->elements; j += 2)
				if (fv->element[j]->type == REDIS_REPLY_STRING && !strcmp(fv->element[j]->str, CS_KEYS_ESC_JSON) &&
				    fv->element[j + 1]->type == REDIS_REPLY_STRING &&
				    cs_report_sit_add_esc(s, (cs_tlp_t)t, fv->element[j + 1]->str, why, sizeof(why))) {
					cs_errstr_set(errstr, errstr_size, "%s entry %s: %s", key,
						      e->element[0]->type == REDIS_REPLY_STRING ? e->element[0]->str : "?", why);
					goto err;
				}
		}
		freeReplyObject(r);
		r = NULL;
	}
	cs_free(f.buckets);
	redisFree(rc);
	return s;

nomem:
	cs_errstr_set(errstr, errstr_size, "out of memory");
err:
	if (r)
		freeReplyObject(r);
	cs__keys_free(f.keys, n);
	cs_free(f.buckets);
	if (rc)
		redisFree(rc);
	cs_report_sit_destroy(s);
	return NULL;
}
