/*
 * cs_decode.c - decoder configuration, the emitter (mapped value ->
 * normalized observable or metadata), one event, and the message envelope
 * (NDJSON / concatenated objects, zstd or lz4 frames with a size cap).
 *
 * DESIGN: a cs_decode_t belongs to one thread. Per event it resets a small
 * arena; normalized values live there until the next event. TEXT values
 * without escapes are not copied: they point into the message (zero-copy).
 * Decompression never allocates beyond decode.max.decompressed.bytes: a
 * frame that would is rejected at once as a bomb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cs_decode_int.h"
#include "cs_conf.h"

void cs__dnode_free(cs_dnode_t *n);

/* ---- names ---- */

const char *cs_decode_fmt2str(cs_decode_fmt_t fmt) {
	static const char *names[] = {
#define CS__FMT(name, str) str,
		CS_DECODE_FMT_MAP(CS__FMT)
#undef CS__FMT
	};
	return (unsigned)fmt < CS_DECODE_FMT__CNT ? names[fmt] : "?";
}

int cs_decode_fmt_parse(const char *s) {
	for (int f = 0; f < CS_DECODE_FMT__CNT; f++)
		if (!strcasecmp(s, cs_decode_fmt2str((cs_decode_fmt_t)f)))
			return f;
	return -1;
}

const char *cs_decode_reject2code(cs_decode_reject_t r) {
	static const char *codes[] = {
#define CS__REJ(name, code, desc) code,
		CS_DECODE_REJECT_MAP(CS__REJ)
#undef CS__REJ
	};
	return (unsigned)r < CS_DECODE_REJECT__CNT ? codes[r] : r == CS_DECODE_OK ? "ok" : "unknown";
}

const char *cs_decode_reject2str(cs_decode_reject_t r) {
	static const char *descs[] = {
#define CS__REJ(name, code, desc) desc,
		CS_DECODE_REJECT_MAP(CS__REJ)
#undef CS__REJ
	};
	return (unsigned)r < CS_DECODE_REJECT__CNT ? descs[r] : r == CS_DECODE_OK ? "ok" : "unknown";
}

/* ---- configuration ---- */

#define CS__OFF(f) offsetof(cs_decode_conf_t, f)
static const cs_conf_prop_t cs__decode_props[] = {
	{"max.message.bytes", CS_CONF_INT, CS__OFF(max_message_bytes), 64, 1LL << 30, "1048576", 0,
	 "A larger message (after decompression: each event in it) is rejected: too_large."},
	{"max.decompressed.bytes", CS_CONF_INT, CS__OFF(max_decompressed_bytes), 1024, 1LL << 31, "16777216", 0,
	 "A compressed message that would decompress to more is rejected at once: decompressed_too_large."},
	{"max.depth", CS_CONF_INT, CS__OFF(max_depth), 2, 1000, "64", 0, "Deepest JSON nesting accepted."},
	{"max.string.bytes", CS_CONF_INT, CS__OFF(max_string_bytes), 16, 1LL << 30, "65536", 0,
	 "Longest JSON string accepted (raw bytes)."},
	{"max.observables", CS_CONF_INT, CS__OFF(max_observables), 1, 65536, "256", 0,
	 "Most observables one event may yield."},
	{"shape.nodes", CS_CONF_INT, CS__OFF(shape_nodes), 0, 1 << 20, "4096", 0,
	 "Event shapes learned per decoder thread (trie nodes: one per scalar value of a shape; 0: none, and no CEF key "
	 "sequences or hosts kept once normalized either). An event of a learned shape is read by comparing its keys "
	 "and punctuation as bytes, and its unmapped values that stay the same too (folded: a quarter of the nodes at "
	 "most; docs/FORMATS.md, Learned shapes and Learned key sequences)."},
	{"fields.ecs", CS_CONF_STR, CS__OFF(fields[CS_DECODE_FMT_ECS]), 0, 0, NULL, 0,
	 "Extra ECS field map entries: `path=type/role,...`; type ip, host, url, hash, email or text."},
	{"fields.eve", CS_CONF_STR, CS__OFF(fields[CS_DECODE_FMT_EVE]), 0, 0, NULL, 0, "Extra Suricata EVE entries."},
	{"fields.zeek", CS_CONF_STR, CS__OFF(fields[CS_DECODE_FMT_ZEEK]), 0, 0, NULL, 0, "Extra Zeek entries."},
	{"fields.ocsf", CS_CONF_STR, CS__OFF(fields[CS_DECODE_FMT_OCSF]), 0, 0, NULL, 0, "Extra OCSF entries."},
	{.name = NULL},
};
static const cs_conf_schema_t cs__decode_schema = {"decode.* (event decoding)", cs__decode_props, NULL,
						   "decode."};

cs_decode_conf_t *cs_decode_conf_new(void) {
	cs_decode_conf_t *conf = cs_calloc(1, sizeof(*conf));
	char errstr[128];
	if (conf && cs_conf_defaults(&cs__decode_schema, conf, errstr, sizeof(errstr))) {
		cs_decode_conf_destroy(conf);
		return NULL;
	}
	return conf;
}

void cs_decode_conf_destroy(cs_decode_conf_t *conf) {
	if (!conf)
		return;
	cs_conf_free(&cs__decode_schema, conf);
	for (int f = 0; f < CS_DECODE_FMT__CNT; f++)
		cs__dnode_free(conf->root[f]);
	cs_free(conf);
}

cs_err_t cs_decode_conf_set(cs_decode_conf_t *conf, const char *key, const char *value, char *errstr,
			    size_t errstr_size) {
	if (conf->built) {
		cs_errstr_set(errstr, errstr_size, "decode.%s: the configuration is in use", key);
		return CS_ERR_INVAL;
	}
	return cs_conf_set(&cs__decode_schema, conf, key, value, errstr, errstr_size); /* errors name decode.<key> */
}

void cs_decode_conf_doc_md(void *fp) {
	cs_conf_doc_md(&cs__decode_schema, fp);
}

/* ---- decoder ---- */

cs_decode_t *cs_decode_new(const cs_decode_conf_t *conf, char *errstr, size_t errstr_size) {
	cs_decode_t *dec;

	if (cs__decode_conf_build((cs_decode_conf_t *)conf, errstr, errstr_size))
		return NULL;
	if (!(dec = cs_calloc(1, sizeof(*dec))))
		goto nomem;
	dec->conf = conf;
	dec->arena_size = 65536 + (size_t)conf->max_observables * 256;
	if (!(dec->stamps = cs_calloc(conf->node_cnt, sizeof(*dec->stamps))) ||
	    !(dec->obs = cs_calloc((size_t)conf->max_observables, sizeof(*dec->obs))) ||
	    !(dec->arena = cs_malloc(dec->arena_size)))
		goto nomem;
	if (conf->shape_nodes > 0 && (!(dec->shapes = cs__shapes_new((size_t)conf->shape_nodes)) ||
				      !(dec->cef_seq = cs_calloc(1, sizeof(*dec->cef_seq))) ||
				      !(dec->hcache = cs_calloc(CS__HC_SLOTS, sizeof(*dec->hcache)))))
		goto nomem;
	if (dec->cef_seq)
		dec->cef_seq->first = -1;
	return dec;
nomem:
	cs_errstr_set(errstr, errstr_size, "out of memory creating a decoder");
	cs_decode_destroy(dec);
	return NULL;
}

void cs_decode_destroy(cs_decode_t *dec) {
	if (!dec)
		return;
	if (dec->zctx)
		ZSTD_freeDCtx(dec->zctx);
	if (dec->lctx)
		LZ4F_freeDecompressionContext(dec->lctx);
	cs_free(dec->zbuf);
	cs__shapes_destroy(dec->shapes);
	cs_free(dec->cef_seq);
	cs_free(dec->hcache);
	cs_free(dec->stamps);
	cs_free(dec->obs);
	cs_free(dec->arena);
	cs_free(dec);
}

/* ---- emitting ---- */

/* The first and last w bytes of s[0..len), w = 8 (len 8 to 16) or 4 (4 to 7), as two words. */
static inline __attribute__((always_inline)) void cs__words(const char *s, size_t len, uint64_t *a, uint64_t *b) {
	if (len >= 8) {
		memcpy(a, s, 8);
		memcpy(b, s + len - 8, 8);
	} else {
		uint32_t c, d;
		memcpy(&c, s, 4);
		memcpy(&d, s + len - 4, 4);
		*a = c;
		*b = d;
	}
}

static cs_decode_reject_t cs__decode_obs_gen(cs_decode_t *dec, cs_dleaf_kind_t kind, cs_obs_role_t role,
					     const char *s, size_t len);

/*
 * The observable array is full (decode.max.observables): where a new one of
 * this role goes, or -1 when it is dropped. A role that holds more than half
 * of the array gives its last slot up to another role's observable, so one
 * over-full field (300 DNS answers) cannot crowd the event's other
 * observables out (its destination, its query); otherwise the newcomer is
 * dropped. Either way one observable is dropped and counted: the event is
 * kept. Off the fast path: only when the array is full.
 */
static long cs__obs_room(cs_decode_t *dec, cs_obs_role_t role) {
	size_t cnt[CS_OBS__ROLE_CNT] = {0};
	int top = 0;
	dec->dropped_obs++;
	for (size_t i = 0; i < dec->obs_cnt; i++)
		cnt[dec->obs[i].role]++;
	for (int r = 1; r < CS_OBS__ROLE_CNT; r++)
		if (cnt[r] > cnt[top])
			top = r;
	if (top == (int)role || cnt[top] * 2 <= dec->obs_cnt)
		return -1;
	for (size_t i = dec->obs_cnt; i-- > 0;)
		if ((int)dec->obs[i].role == top)
			return (long)i;
	return -1;
}

/* The slot of a new observable: the next one, or what cs__obs_room() gives when the array is full (-1: drop). */
static inline long cs__obs_slot(cs_decode_t *dec, cs_obs_role_t role) {
	if (__builtin_expect(dec->obs_cnt < (size_t)dec->conf->max_observables, 1))
		return (long)dec->obs_cnt++;
	return cs__obs_room(dec, role);
}

cs_decode_reject_t cs__decode_obs_quad(cs_decode_t *dec, cs_dleaf_kind_t kind, cs_obs_role_t role, const char *s,
				       size_t len) {
	char *dst;
	uint64_t a, b;
	long at;

	if (dec->arena_size - dec->arena_used < CS_NORM_CAP) {
		dec->dropped_obs++; /* the event's values fill the arena: this one is dropped, the event kept */
		return CS_DECODE_OK;
	}
	dst = dec->arena + dec->arena_used;
	cs__words(s, len, &a, &b);
	if (len >= 8) { /* two overlapping words */
		memcpy(dst, &a, 8);
		memcpy(dst + len - 8, &b, 8);
	} else {
		uint32_t c = (uint32_t)a, d = (uint32_t)b;
		memcpy(dst, &c, 4);
		memcpy(dst + len - 4, &d, 4);
	}
	dst[len] = '\0';
	if (!cs_norm_ipv4_canonical16(dst, len)) /* the arena has room for 16 bytes */
		return cs__decode_obs_gen(dec, kind, role, s, len);
	/* the same address twice in one event: once (cs__obs_has() with the words already loaded) */
	for (size_t i = 0; i < dec->obs_cnt; i++) {
		const cs_obs_t *o = &dec->obs[i];
		if (o->type == CS_OBS_IPV4 && o->len == len) {
			uint64_t x, y;
			cs__words(o->value, len, &x, &y);
			if (x == a && y == b)
				return CS_DECODE_OK;
		}
	}
	if ((at = cs__obs_slot(dec, role)) < 0)
		return CS_DECODE_OK;
	dec->obs[at] = (cs_obs_t){CS_OBS_IPV4, role, dst, len};
	dec->arena_used += len + 1;
	return CS_DECODE_OK;
}

/* 1 if the event has an observable of this type and value already. */
static inline int cs__obs_has(const cs_decode_t *dec, int type, const char *s, size_t len) {
	for (size_t i = 0; i < dec->obs_cnt; i++)
		if ((int)dec->obs[i].type == type && dec->obs[i].len == len && !memcmp(dec->obs[i].value, s, len))
			return 1;
	return 0;
}

cs_decode_reject_t cs__decode_text(cs_decode_t *dec, cs_obs_role_t role, const char *s, size_t len, int in_arena) {
	long at;
	if (len == 0 || cs__obs_has(dec, CS_OBS_TEXT, s, len)) /* the same text twice in one event: once */
		return CS_DECODE_OK;
	if ((at = cs__obs_slot(dec, role)) < 0)
		return CS_DECODE_OK;
	dec->obs[at] = (cs_obs_t){CS_OBS_TEXT, role, s, len};
	if (in_arena) { /* written at the arena's end: kept */
		dec->arena[dec->arena_used + len] = '\0';
		dec->arena_used += len + 1;
	}
	return CS_DECODE_OK;
}

/* Appends the normalized value dst[0..len) (in the arena, NUL-terminated) unless the event has it already. */
static cs_decode_reject_t cs__decode_obs_push(cs_decode_t *dec, int type, cs_obs_role_t role, char *dst, size_t len) {
	long at;
	if (cs__obs_has(dec, type, dst, len)) /* the same value twice in one event: once */
		return CS_DECODE_OK;
	if ((at = cs__obs_slot(dec, role)) < 0)
		return CS_DECODE_OK;
	dec->obs[at] = (cs_obs_t){(cs_obs_type_t)type, role, dst, len};
	dec->arena_used += len + 1;
	return CS_DECODE_OK;
}

cs_decode_reject_t cs__decode_obs(cs_decode_t *dec, cs_dleaf_kind_t kind, cs_obs_role_t role, const char *s,
				  size_t len) {
	return cs__maybe_quad(kind, s, len) ? cs__decode_obs_quad(dec, kind, role, s, len)
					    : cs__decode_obs_gen(dec, kind, role, s, len);
}

/* The slot of the host at p (len 8 to CS__HC_MAX bytes). */
static inline uint32_t cs__hc_slot(const char *p, size_t len) {
	uint64_t a, b;
	memcpy(&a, p, 8);
	memcpy(&b, p + len - 8, 8);
	return (uint32_t)(((a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ len) >> 57); /* 128 slots */
}

/* 1 if e holds the len bytes at p (p has CS__HC_MAX readable bytes). */
static inline int cs__hc_eq(const cs__hc_t *e, const char *p, size_t len) {
	uint64_t eq = 0;
	for (int i = 0; i < CS__HC_MAX; i += 16)
		eq |= (uint64_t)(uint16_t)_mm_movemask_epi8(
			      _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(e->raw + i)),
					     _mm_loadu_si128((const __m128i *)(const void *)(p + i))))
		      << i;
	return (~eq & ((1ULL << len) - 1)) == 0;
}

static cs_decode_reject_t cs__decode_obs_gen(cs_decode_t *dec, cs_dleaf_kind_t kind, cs_obs_role_t role,
					     const char *s, size_t len) {
	char *dst;
	size_t room, hoff = 0, hlen = 0, rawlen = len;
	int type = -1, htype = -1;
	cs_decode_reject_t r;
	cs__hc_t *hc = NULL; /* the host's slot, when it may be kept */
	uint8_t hk = kind == CS_DLEAF_IP ? CS_DLEAF_IP : CS_DLEAF_HOST; /* the kind it is kept under */

	if (len == 0)
		return CS_DECODE_OK;
	if (kind != CS_DLEAF_TEXT && len > CS_NORM_MAX_IN)
		return CS_DECODE_OK; /* too long to be an address, host, URL, hash or e-mail */
	room = dec->arena_size - dec->arena_used;
	if (room < (kind == CS_DLEAF_TEXT ? len + 1 : CS_NORM_CAP)) {
		dec->dropped_obs++; /* the event's values fill the arena: this one is dropped, the event kept */
		return CS_DECODE_OK;
	}
	dst = dec->arena + dec->arena_used;
	if (len >= 8 && len <= 16) {
		/* most values: two overlapping 8-byte words, both loaded before either is stored */
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + len - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + len - 8, &b, 8);
	} else if (len > 16 && len <= 48 && s != dst) {
		/* most hosts: 16-byte pieces, the last one overlapping, all loaded before any is stored */
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + (len > 32 ? 16 : len - 16)));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + len - 16));
		_mm_storeu_si128((__m128i *)(void *)dst, a);
		_mm_storeu_si128((__m128i *)(void *)(dst + (len > 32 ? 16 : len - 16)), b);
		_mm_storeu_si128((__m128i *)(void *)(dst + len - 16), c);
	} else if (s != dst) {
		memmove(dst, s, len);
	}
	dst[len] = '\0';
	if (dec->hcache && (kind == CS_DLEAF_IP || kind == CS_DLEAF_HOST || kind == CS_DLEAF_URL_HOST) && len >= 8 &&
	    len <= CS__HC_MAX && s != dst) {
		hc = &dec->hcache[cs__hc_slot(dst, len)];
		if (hc->len == len && hc->kind == hk && cs__hc_eq(hc, dst, len)) /* the arena has the room to read */
			return hc->type < 0 ? CS_DECODE_OK : cs__decode_obs_push(dec, hc->type, role, dst, len);
	}
	switch (kind) {
	case CS_DLEAF_IP:
		type = cs_norm_host(dst, &len, room);
		if (type != CS_OBS_IPV4 && type != CS_OBS_IPV6)
			type = -1;
		break;
	case CS_DLEAF_HOST:
	case CS_DLEAF_URL_HOST:
		type = cs_norm_host(dst, &len, room);
		break;
	case CS_DLEAF_URL:
	case CS_DLEAF_URL_PATH:
		type = cs_norm_url_host(dst, &len, room, &hoff, &hlen, &htype) == 0 ? CS_OBS_URL : -1;
		break;
	case CS_DLEAF_HASH:
		type = cs_norm_hash(dst, len);
		break;
	case CS_DLEAF_EMAIL:
		type = cs_norm_email(dst, &len, room) == 0 ? CS_OBS_EMAIL : -1;
		break;
	case CS_DLEAF_TEXT:
		type = CS_OBS_TEXT;
		break;
	default:
		return CS_DECODE_OK;
	}
	if (hc && (type < 0 || (len == rawlen && !memcmp(dst, s, len)))) { /* no host, or a host as it was: kept */
		memcpy(hc->raw, s, rawlen);
		hc->len = (uint8_t)rawlen;
		hc->kind = hk;
		hc->type = (int8_t)type;
	}
	if (type < 0)
		return CS_DECODE_OK; /* not a value of that kind: no observable, not an error */
	r = cs__decode_obs_push(dec, type, role, dst, len);
	if (type == CS_OBS_URL && r == CS_DECODE_OK && htype >= 0) {
		/* the URL's host is an observable of its own: as the URL's normalization made it, which is what
		 * cs_norm_host() makes of it again */
		const char *url = dst; /* kept, or where the next value goes when it was a duplicate */
		if (dec->arena_size - dec->arena_used < CS_NORM_CAP) {
			dec->dropped_obs++;
			return CS_DECODE_OK;
		}
		dst = dec->arena + dec->arena_used;
		memmove(dst, url + hoff, hlen);
		dst[hlen] = '\0';
		return cs__decode_obs_push(dec, htype, CS_OBS_ROLE_URL_HOST, dst, hlen);
	}
	if (type == CS_OBS_URL && r == CS_DECODE_OK) { /* the URL's host is an observable of its own */
		const char *h = strstr(dst, "://") + 3, *e = h + strcspn(h, "/?#"), *at, *hend;
		if ((at = memchr(h, '@', (size_t)(e - h))))
			h = at + 1;
		if (*h == '[')
			hend = (const char *)memchr(h, ']', (size_t)(e - h)) + 1;
		else
			hend = (hend = memchr(h, ':', (size_t)(e - h))) ? hend : e;
		return cs__decode_obs(dec, CS_DLEAF_HOST, CS_OBS_ROLE_URL_HOST, h, (size_t)(hend - h));
	}
	return r;
}

cs_decode_reject_t cs__decode_emit_str(cs_decode_t *dec, const cs_dleaf_t *leaf, const char *s, size_t len, int escaped) {
	if (__builtin_expect(escaped > 1, 0))
		return CS_DECODE_OK; /* longer than decode.max.string.bytes: skipped (counted where it was read) */
	if (leaf->kind == CS_DLEAF_MARKER) {
		if (dec->first_fmt == CS_DECODE_FMT_AUTO)
			dec->first_fmt = (cs_decode_fmt_t)leaf->fmt;
		if (dec->marker_fmt == CS_DECODE_FMT_AUTO)
			dec->marker_fmt = (cs_decode_fmt_t)leaf->fmt;
		return CS_DECODE_OK;
	}
	if (!escaped && cs__maybe_quad((cs_dleaf_kind_t)leaf->kind, s, len)) {
		if (dec->first_fmt == CS_DECODE_FMT_AUTO)
			dec->first_fmt = (cs_decode_fmt_t)leaf->fmt;
		return cs__decode_obs_quad(dec, (cs_dleaf_kind_t)leaf->kind, (cs_obs_role_t)leaf->role, s, len);
	}
	return cs__decode_emit_str_any(dec, leaf, s, len, escaped);
}

/* The rest of cs__decode_emit_str(): metadata and observables from a string value. */
cs_decode_reject_t cs__decode_emit_str_any(cs_decode_t *dec, const cs_dleaf_t *leaf, const char *s, size_t len,
					   int escaped) {
	char tmp[CS_NORM_MAX_IN + 1];

	if (dec->first_fmt == CS_DECODE_FMT_AUTO)
		dec->first_fmt = (cs_decode_fmt_t)leaf->fmt;
	if (escaped) { /* decode the escapes first: into the arena for text, else a bounded copy */
		if (leaf->kind == CS_DLEAF_TEXT) {
			if (dec->arena_size - dec->arena_used < len + 1) {
				dec->dropped_obs++; /* the event's values fill the arena: dropped, the event kept */
				return CS_DECODE_OK;
			}
			len = cs__json_unescape(s, len, dec->arena + dec->arena_used);
			s = dec->arena + dec->arena_used;
		} else {
			if (len > CS_NORM_MAX_IN)
				return CS_DECODE_OK;
			len = cs__json_unescape(s, len, tmp);
			s = tmp;
		}
	}
	switch (leaf->kind) {
	case CS_DLEAF_TIME: {
		int64_t ms;
		if (!dec->ev.ts_ms && !cs_time_parse_iso8601_memo(&dec->tmemo, s, len, &ms))
			dec->ev.ts_ms = ms;
		return CS_DECODE_OK;
	}
	case CS_DLEAF_ORG:
		if (!dec->ev.org && !escaped) {
			dec->ev.org = s;
			dec->ev.org_len = len;
		}
		return CS_DECODE_OK;
	case CS_DLEAF_CATEGORY:
		if (!dec->ev.category && !escaped) {
			dec->ev.category = s;
			dec->ev.category_len = len;
		}
		return CS_DECODE_OK;
	case CS_DLEAF_SEVERITY:
		if (dec->ev.severity < 0 && len > 0 && len < 4 && s[0] >= '0' && s[0] <= '9')
			dec->ev.severity = atoi(s);
		return CS_DECODE_OK;
	case CS_DLEAF_TEXT: /* unescaped into the arena, else as it is in the message (zero-copy) */
		return cs__decode_text(dec, (cs_obs_role_t)leaf->role, s, len, escaped);
	case CS_DLEAF_URL_HOST:
		if (len > 0 && len < 1024) {
			if (dec->arena_size - dec->arena_used < len + 1) {
				dec->dropped_obs++;
				return CS_DECODE_OK;
			}
			/* remember the raw host for a URL split over two fields */
			memcpy(dec->arena + dec->arena_used, s, len);
			dec->url_host = dec->arena + dec->arena_used;
			dec->url_host_len = len;
			dec->arena_used += len;
		}
		return cs__decode_obs(dec, CS_DLEAF_HOST, (cs_obs_role_t)leaf->role, s, len);
	case CS_DLEAF_URL_PATH:
		if (len > 0 && s[0] == '/') {
			if (len > CS_NORM_MAX_IN || dec->arena_size - dec->arena_used < len)
				return CS_DECODE_OK;
			memcpy(dec->arena + dec->arena_used, s, len);
			dec->url_path = dec->arena + dec->arena_used;
			dec->url_path_len = len;
			dec->arena_used += len;
			return CS_DECODE_OK;
		}
		return cs__decode_obs(dec, CS_DLEAF_URL, (cs_obs_role_t)leaf->role, s, len);
	default:
		return cs__decode_obs(dec, (cs_dleaf_kind_t)leaf->kind, (cs_obs_role_t)leaf->role, s, len);
	}
}

/*
 * An epoch time of up to 15 integer digits and no exponent, the way Zeek
 * (seconds with a fraction) and OCSF (milliseconds) write it, read in decimal:
 * milliseconds above 1e11, else seconds rounded to the millisecond (half up).
 * Returns 0 and *ms (0: not a time), or -1 for the other forms (strtod).
 */
static int cs__epoch_ms(const char *s, size_t len, int64_t *ms) {
	size_t i = cs_digits_count(s, len), k, nd = 0;
	int64_t ip;
	int frac = 0, more = 0;

	if (i == 0 || i > 15)
		return -1; /* '-', or more digits: strtod decides, as before */
	ip = cs__dec_value(s, i);
	if (i < len && s[i] == '.') {
		const char *f = s + i + 1;
		size_t fl = len - i - 1;
		uint32_t w;
		if (fl >= 4 && (memcpy(&w, f, 4), ((w - 0x30303030u) | (w + 0x46464646u)) & 0x80808080u) == 0) {
			/* the common fraction: four digits or more, the first four read at once */
			w -= 0x30303030u;
			frac = (int)((w & 0xff) * 1000 + (w >> 8 & 0xff) * 100 + (w >> 16 & 0xff) * 10 + (w >> 24));
			for (nd = 4; nd < fl && (unsigned)(unsigned char)f[nd] - '0' <= 9; nd++)
				more |= f[nd] != '0';
		} else {
			nd = cs_digits_count(f, fl);
			for (k = 0; k < nd; k++) /* fewer than four */
				frac = frac * 10 + (f[k] - '0');
			for (; k < 4; k++)
				frac *= 10;
		}
		i += 1 + nd;
	}
	if (i != len)
		return -1; /* an exponent */
	*ms = 0;
	if (ip > 100000000000LL || (ip == 100000000000LL && (frac || more))) {
		if (ip < 100000000000000LL)
			*ms = ip; /* milliseconds; a fraction of one is dropped */
	} else if (ip < 100000000000LL && (ip > 0 || frac || more)) {
		*ms = ip * 1000 + (frac + 5) / 10; /* ten-thousandths, rounded half up */
	}
	return 0;
}

cs_decode_reject_t cs__decode_emit_num(cs_decode_t *dec, const cs_dleaf_t *leaf, const char *s, size_t len) {
	char buf[72];
	int64_t ms;
	if (leaf->kind == CS_DLEAF_TIME && !dec->ev.ts_ms && !cs__epoch_ms(s, len, &ms)) {
		dec->ev.ts_ms = ms;
		return CS_DECODE_OK;
	}
	if (leaf->kind == CS_DLEAF_MARKER) {
		if (dec->marker_fmt == CS_DECODE_FMT_AUTO)
			dec->marker_fmt = (cs_decode_fmt_t)leaf->fmt;
		return CS_DECODE_OK;
	}
	if (leaf->kind == CS_DLEAF_SEVERITY && dec->ev.severity < 0 && len <= 3 && s[0] != '-' &&
	    !cs__dec_u64(s, len, &ms)) {
		dec->ev.severity = (int)ms; /* the common severity: 1 to 3 digits (what strtol reads of them) */
		return CS_DECODE_OK;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (leaf->kind == CS_DLEAF_TIME && !dec->ev.ts_ms) {
		double v = strtod(buf, NULL);
		if (v > 1e11 && v < 1e14) /* epoch milliseconds (OCSF) */
			dec->ev.ts_ms = (int64_t)v;
		else if (v > 0 && v < 1e11) /* epoch seconds (Zeek) */
			dec->ev.ts_ms = (int64_t)(v * 1000.0 + 0.5);
	} else if (leaf->kind == CS_DLEAF_SEVERITY && dec->ev.severity < 0) {
		long v = strtol(buf, NULL, 10);
		if (v >= 0 && v < 1000)
			dec->ev.severity = (int)v;
	}
	return CS_DECODE_OK;
}

void cs_decode_capped(const cs_decode_t *dec, uint64_t *strings_skipped, uint64_t *observables_dropped) {
	*strings_skipped = dec->skipped_strings;
	*observables_dropped = dec->dropped_obs;
}

/* ---- one event ---- */

void cs__decode_event_reset(cs_decode_t *dec) {
	dec->obs_cnt = 0;
	dec->arena_used = 0;
	dec->url_host = dec->url_path = NULL;
	dec->marker_fmt = dec->first_fmt = CS_DECODE_FMT_AUTO;
	/* field by field: gcc makes a memset of the struct (or a loop of vector stores) a `rep stos`, slow to
	 * start, once per event */
	_Static_assert(sizeof(void *) != 8 || sizeof(cs_decode_event_t) == 96, "clear every field of cs_decode_event_t");
	dec->ev.fmt = CS_DECODE_FMT_AUTO;
	dec->ev.ts_ms = 0;
	dec->ev.org = NULL;
	dec->ev.org_len = 0;
	dec->ev.severity = -1;
	dec->ev.category = NULL;
	dec->ev.category_len = 0;
	dec->ev.obs = NULL;
	dec->ev.obs_cnt = 0;
	dec->ev.offset = dec->ev.length = 0;
	dec->ev.raw = NULL;
}

/* Finds "CEF:" at the start or behind a syslog header (first 512 bytes of the line). */
static const char *cs__find_cef(const char *buf, size_t len) {
	const char *p = buf, *lim = buf + (len < 512 ? len : 512);
	while (lim - p >= 4 && (p = cs__find2(p, lim - 3, 'C', '\n')) < lim - 3) {
		if (*p == '\n')
			return NULL;
		if (!memcmp(p, "CEF:", 4) && (p == buf || p[-1] == ' '))
			return p;
		p++;
	}
	return NULL;
}

cs_decode_reject_t cs_decode_one(cs_decode_t *dec, cs_decode_fmt_t fmt, const char *buf, size_t len,
				 size_t *consumed, cs_decode_event_t *ev) {
	cs_decode_reject_t r;
	size_t lead = 0, used = 0;

	cs__decode_event_reset(dec);
	while (lead < len && (buf[lead] == ' ' || buf[lead] == '\n' || buf[lead] == '\r' || buf[lead] == '\t'))
		lead++;
	buf += lead;
	len -= lead;
	dec->ev.offset = lead;
	dec->ev.raw = buf;

	if (len == 0) {
		r = CS_DECODE_REJECT_EMPTY;
	} else if (fmt == CS_DECODE_FMT_CEF || (fmt == CS_DECODE_FMT_AUTO && buf[0] != '{')) {
		/* a line */
		const char *nl = memchr(buf, '\n', len), *cef;
		size_t ll = nl ? (size_t)(nl - buf) : len;
		used = nl ? ll + 1 : len;
		if (ll > 0 && buf[ll - 1] == '\r')
			ll--;
		if (ll > (size_t)dec->conf->max_message_bytes)
			r = CS_DECODE_REJECT_TOO_LARGE;
		else if (!(cef = cs__find_cef(buf, ll)))
			r = CS_DECODE_REJECT_NOT_EVENT;
		else {
			r = cs__decode_cef(dec, cef, ll - (size_t)(cef - buf));
			dec->marker_fmt = CS_DECODE_FMT_CEF;
		}
		dec->ev.length = ll;
	} else {
		size_t limit = len;
		if (limit > (size_t)dec->conf->max_message_bytes)
			limit = (size_t)dec->conf->max_message_bytes;
		r = cs__decode_json(dec, fmt == CS_DECODE_FMT_CEF ? CS_DECODE_FMT_AUTO : fmt, buf, limit, &used);
		if (r == CS_DECODE_REJECT_TRUNCATED && limit < len)
			r = CS_DECODE_REJECT_TOO_LARGE;
		if (r == CS_DECODE_OK && dec->url_path) {
			/* EVE http.hostname + http.url, Zeek host + uri */
			if (dec->url_host && dec->arena_size - dec->arena_used > dec->url_host_len + dec->url_path_len + 8) {
				char *u = dec->arena + dec->arena_used;
				size_t ul = 7 + dec->url_host_len + dec->url_path_len;
				memcpy(u, "http://", 7);
				memcpy(u + 7, dec->url_host, dec->url_host_len);
				memcpy(u + 7 + dec->url_host_len, dec->url_path, dec->url_path_len);
				u[ul] = '\0';
				dec->arena_used += ul + 1;
				r = cs__decode_obs(dec, CS_DLEAF_URL, CS_OBS_ROLE_URL, u, ul);
			}
			if (r == CS_DECODE_OK)
				r = cs__decode_text(dec, CS_OBS_ROLE_URL_PATH, dec->url_path, dec->url_path_len, 0); /* kept in the arena */
		}
		if (r != CS_DECODE_OK) {
			/* skip to the end of the line, so the next event can still be read */
			const char *nl = memchr(buf, '\n', len);
			used = nl ? (size_t)(nl - buf) + 1 : len;
		}
		dec->ev.length = used;
	}
	dec->ev.fmt = fmt != CS_DECODE_FMT_AUTO ? fmt
		      : dec->marker_fmt != CS_DECODE_FMT_AUTO ? dec->marker_fmt
							       : dec->first_fmt;
	dec->ev.obs = dec->obs;
	dec->ev.obs_cnt = r == CS_DECODE_OK ? dec->obs_cnt : 0; /* a rejected event yields nothing */
	*ev = dec->ev;
	*consumed = lead + used;
	return r;
}

/* ---- envelope ---- */

static int cs__grow_zbuf(cs_decode_t *dec, size_t need) {
	char *n;
	if (dec->zbuf_size >= need)
		return 0;
	if (!(n = cs_realloc(dec->zbuf, need)))
		return -1;
	dec->zbuf = n;
	dec->zbuf_size = need;
	return 0;
}

/* Decompresses into dec->zbuf. Returns the size, or a rejection through *r. */
static size_t cs__decompress(cs_decode_t *dec, int lz4, const void *in, size_t inlen, cs_decode_reject_t *r) {
	size_t cap = (size_t)dec->conf->max_decompressed_bytes, out = 0;

	*r = CS_DECODE_OK;
	if (!lz4) {
		unsigned long long fsz = ZSTD_getFrameContentSize(in, inlen);
		ZSTD_inBuffer ib = {in, inlen, 0};
		if (fsz == ZSTD_CONTENTSIZE_ERROR) {
			*r = CS_DECODE_REJECT_DECOMPRESS;
			return 0;
		}
		if (fsz != ZSTD_CONTENTSIZE_UNKNOWN && fsz > cap) {
			*r = CS_DECODE_REJECT_BOMB; /* declared too large: rejected before any work */
			return 0;
		}
		if (!dec->zctx && !(dec->zctx = ZSTD_createDCtx())) {
			*r = CS_DECODE_REJECT_DECOMPRESS;
			return 0;
		}
		ZSTD_DCtx_reset(dec->zctx, ZSTD_reset_session_only);
		for (;;) {
			size_t chunk = out + 65536 < cap ? 65536 : cap - out, rc;
			ZSTD_outBuffer ob;
			if (cs__grow_zbuf(dec, out + chunk + 1)) {
				*r = CS_DECODE_REJECT_DECOMPRESS;
				return 0;
			}
			ob = (ZSTD_outBuffer){dec->zbuf + out, chunk, 0};
			rc = ZSTD_decompressStream(dec->zctx, &ob, &ib);
			out += ob.pos;
			if (ZSTD_isError(rc)) {
				*r = CS_DECODE_REJECT_DECOMPRESS;
				return 0;
			}
			if (rc == 0 && ib.pos == ib.size)
				return out;
			if (out >= cap) {
				*r = CS_DECODE_REJECT_BOMB;
				return 0;
			}
			if (ob.pos == 0 && ib.pos == ib.size) {
				*r = CS_DECODE_REJECT_DECOMPRESS; /* truncated frame */
				return 0;
			}
		}
	} else {
		size_t ipos = 0;
		if (!dec->lctx && LZ4F_isError(LZ4F_createDecompressionContext(&dec->lctx, LZ4F_VERSION))) {
			*r = CS_DECODE_REJECT_DECOMPRESS;
			return 0;
		}
		LZ4F_resetDecompressionContext(dec->lctx);
		{
			LZ4F_frameInfo_t fi;
			size_t isz = inlen, hr = LZ4F_getFrameInfo(dec->lctx, &fi, in, &isz);
			if (LZ4F_isError(hr)) {
				*r = CS_DECODE_REJECT_DECOMPRESS;
				return 0;
			}
			if (fi.contentSize && fi.contentSize > cap) {
				*r = CS_DECODE_REJECT_BOMB;
				return 0;
			}
			ipos = isz;
		}
		for (;;) {
			size_t chunk = out + 65536 < cap ? 65536 : cap - out, osz, isz = inlen - ipos, rc;
			if (cs__grow_zbuf(dec, out + chunk + 1)) {
				*r = CS_DECODE_REJECT_DECOMPRESS;
				return 0;
			}
			osz = chunk;
			rc = LZ4F_decompress(dec->lctx, dec->zbuf + out, &osz, (const char *)in + ipos, &isz, NULL);
			if (LZ4F_isError(rc)) {
				*r = CS_DECODE_REJECT_DECOMPRESS;
				return 0;
			}
			out += osz;
			ipos += isz;
			if (rc == 0)
				return ipos == inlen ? out : (*r = CS_DECODE_REJECT_DECOMPRESS, 0);
			if (out >= cap) {
				*r = CS_DECODE_REJECT_BOMB;
				return 0;
			}
			if (osz == 0 && isz == 0) {
				*r = CS_DECODE_REJECT_DECOMPRESS;
				return 0;
			}
		}
	}
}

size_t cs_decode_message(cs_decode_t *dec, cs_decode_fmt_t fmt, const char *encoding, const void *payload,
			 size_t len, cs_decode_cb_t *cb, void *opaque) {
	const char *buf = payload;
	size_t pos = 0, n = 0;
	cs_decode_event_t ev;

	if (encoding && *encoding && strcasecmp(encoding, "identity")) {
		cs_decode_reject_t r = CS_DECODE_REJECT_ENCODING;
		size_t out = 0;
		if (!strcasecmp(encoding, "zstd"))
			out = cs__decompress(dec, 0, payload, len, &r);
		else if (!strcasecmp(encoding, "lz4"))
			out = cs__decompress(dec, 1, payload, len, &r);
		if (r != CS_DECODE_OK) {
			cs__decode_event_reset(dec);
			ev = dec->ev;
			ev.length = len;
			cb(opaque, &ev, r);
			return 1;
		}
		buf = dec->zbuf;
		len = out;
	}
	while (pos < len) {
		size_t used = 0;
		cs_decode_reject_t r = cs_decode_one(dec, fmt, buf + pos, len - pos, &used, &ev);
		ev.offset += pos;
		if (r == CS_DECODE_REJECT_EMPTY && n > 0)
			break; /* trailing white space after the last event */
		n++;
		if (cb(opaque, &ev, r))
			break;
		if (used == 0)
			break;
		pos += used;
	}
	if (n == 0) {
		cs__decode_event_reset(dec);
		ev = dec->ev;
		cb(opaque, &ev, CS_DECODE_REJECT_EMPTY);
		n = 1;
	}
	return n;
}
