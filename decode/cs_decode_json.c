/*
 * cs_decode_json.c - the streaming JSON scanner.
 *
 * DESIGN: one pass over the bytes, no tree. It validates the whole document
 * (syntax, escapes, UTF-8, number length, depth) and, walking the field-map
 * trie alongside, hands the values at mapped paths to the emitter. Arrays are
 * transparent (an element has its array's path). Strings are scanned 16 bytes
 * at a time with SSE2 for '"', '\\' and bytes < 0x20 or >= 0x80 (one signed
 * compare catches both). Duplicate keys are detected at mapped paths only
 * (where two readers of the event could disagree on an observable).
 * Runs on the thread that owns the decoder; never allocates.
 */
#include <string.h>
#include <emmintrin.h>

#include "cs_decode_int.h"

/*
 * The position is a local of each function (passed in, returned: NULL for a
 * rejection, whose reason is in js->r), so that it lives in a register
 * rather than in the shared state.
 */
typedef struct cs__rec_s cs__rec_t;

typedef struct cs__js_s {
	cs_decode_t *dec;
	const char *end;
	int depth, max_depth;
	size_t max_str;
	cs_decode_reject_t r; /* why the last call returned NULL */
	cs__rec_t *rec;       /* where the scalar values go while a shape is learned, else NULL */
} cs__js_t;

#define CS__WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define CS__FAIL(js, why) ((js)->r = (why), (const char *)NULL)

static inline __attribute__((always_inline)) const char *cs__ws(const char *p, const char *end) {
	/* compact JSON has none: one compare decides in the common case */
	if (__builtin_expect(p < end && (unsigned char)*p > ' ', 1))
		return p;
	while (p < end && CS__WS(*p))
		p++;
	return p;
}

static inline int cs__hex(unsigned char c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Reads 4 hex digits at p. Returns the value or -1. */
static inline int cs__hex4(const char *p) {
	int a = cs__hex((unsigned char)p[0]), b = cs__hex((unsigned char)p[1]),
	    c = cs__hex((unsigned char)p[2]), d = cs__hex((unsigned char)p[3]);
	if ((a | b | c | d) < 0)
		return -1;
	return (a << 12) | (b << 8) | (c << 4) | d;
}

/* Validates one UTF-8 sequence starting at p (a byte >= 0x80). Returns its length or 0. */
static inline size_t cs__utf8_seq(const unsigned char *p, const unsigned char *end) {
	unsigned c = p[0];
	if (c >= 0xC2 && c <= 0xDF) {
		if (end - p < 2 || (p[1] & 0xC0) != 0x80)
			return 0;
		return 2;
	}
	if (c >= 0xE0 && c <= 0xEF) {
		if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && p[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* Bit i set: byte i of v is '"', '\\', < 0x20 or >= 0x80 (one signed compare catches the last two). */
static inline __attribute__((always_inline)) unsigned cs__special(__m128i v) {
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x20);
	return (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)), _mm_cmplt_epi8(v, ctl)));
}

/* p is just after the opening quote. Returns the position after the closing quote. */
static inline __attribute__((always_inline)) const char *cs__string(cs__js_t *js, const char *p, const char **sp,
								     size_t *lenp, int *escaped) {
	const char *end = js->end, *start = p;
	int esc = 0;

	for (;;) {
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			unsigned mask = cs__special(v);
			if (mask) {
				p += __builtin_ctz(mask);
				goto special;
			}
			p += 16;
		}
		while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
		       (unsigned char)*p < 0x80)
			p++;
		if (p >= end)
			return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
special:
		if (__builtin_expect(*p == '"', 1)) {
			*sp = start;
			*lenp = (size_t)(p - start);
			*escaped = esc;
			if (__builtin_expect(*lenp > js->max_str, 0)) {
				/* longer than decode.max.string.bytes: the value is skipped, the event kept (one
				 * oversized field must not hide the event's other observables) */
				js->dec->skipped_strings++;
				*escaped = 2;
			}
			return p + 1;
		}
		switch (*p) {
		case '\\':
			esc = 1;
			if (end - p < 2)
				return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
			switch (p[1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				break;
			case 'u': {
				int cp;
				if (end - p < 6)
					return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
				if ((cp = cs__hex4(p + 2)) < 0)
					return CS__FAIL(js, CS_DECODE_REJECT_BAD_ESCAPE);
				p += 6;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return CS__FAIL(js, CS_DECODE_REJECT_BAD_ESCAPE); /* lone low surrogate */
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					int lo;
					if ((end - p >= 1 && p[0] != '\\') || (end - p >= 2 && p[1] != 'u'))
						return CS__FAIL(js, CS_DECODE_REJECT_BAD_ESCAPE); /* unpaired high surrogate */
					if (end - p < 6)
						return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
					if (p[0] != '\\' || p[1] != 'u' || (lo = cs__hex4(p + 2)) < 0xDC00 ||
					    lo > 0xDFFF)
						return CS__FAIL(js, CS_DECODE_REJECT_BAD_ESCAPE); /* unpaired high surrogate */
					p += 6;
				}
				break;
			}
			default:
				return CS__FAIL(js, CS_DECODE_REJECT_BAD_ESCAPE);
			}
			break;
		default:
			if ((unsigned char)*p < 0x20)
				return CS__FAIL(js, CS_DECODE_REJECT_SYNTAX); /* raw control character */
			{
				size_t n = cs__utf8_seq((const unsigned char *)p, (const unsigned char *)end);
				if (!n) {
					/* a valid lead byte cut off by the end of the message is truncation */
					unsigned char c = (unsigned char)*p;
					long need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
					int cont = c >= 0xC2 && c <= 0xF4 && end - p < need;
					for (const char *t = p + 1; cont && t < end; t++)
						cont = ((unsigned char)*t & 0xC0) == 0x80;
					return CS__FAIL(js, cont ? CS_DECODE_REJECT_TRUNCATED : CS_DECODE_REJECT_BAD_UTF8);
				}
				p += n;
			}
			break;
		}
	}
}

#define CS__DIGIT(c) ((unsigned)(unsigned char)(c) - '0' <= 9)

/* Bit i set: byte i of the 16 at p is no digit. */
static inline __attribute__((always_inline)) unsigned cs__nondigits(const char *p) {
	const __m128i off = _mm_set1_epi8((char)(0x80 - '0')), lim = _mm_set1_epi8((char)(0x80 + 10 - 256));
	return (unsigned)_mm_movemask_epi8(
		       _mm_cmplt_epi8(_mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), off), lim)) ^
	       0xffffu;
}

/* The first byte in [p, end) that is no digit, or end; 16 bytes at a time. */
static inline __attribute__((always_inline)) const char *cs__digits(const char *p, const char *end) {
	while (end - p >= 16) {
		unsigned m = cs__nondigits(p);
		if (m)
			return p + __builtin_ctz(m);
		p += 16;
	}
	while (p < end && CS__DIGIT(*p))
		p++;
	return p;
}

static inline __attribute__((always_inline)) const char *cs__number(cs__js_t *js, const char *p, const char **sp,
								     size_t *lenp) {
	const char *end = js->end, *start = p;

	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		p = cs__digits(p + 1, end);
	else
		return CS__FAIL(js, CS_DECODE_REJECT_NUMBER);
	if (p < end && *p == '.') {
		const char *d = ++p;
		p = cs__digits(p, end);
		if (p == d)
			return CS__FAIL(js, p >= end ? CS_DECODE_REJECT_TRUNCATED : CS_DECODE_REJECT_NUMBER);
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		const char *d;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		d = p;
		while (p < end && CS__DIGIT(*p))
			p++;
		if (p == d)
			return CS__FAIL(js, p >= end ? CS_DECODE_REJECT_TRUNCATED : CS_DECODE_REJECT_NUMBER);
	}
	if (p - start > 64)
		return CS__FAIL(js, CS_DECODE_REJECT_NUMBER);
	*sp = start;
	*lenp = (size_t)(p - start);
	return p;
}

static const char *cs__literal(cs__js_t *js, const char *p, const char *lit, size_t n) {
	size_t have = (size_t)(js->end - p);
	if (have < n)
		return CS__FAIL(js, memcmp(p, lit, have) ? CS_DECODE_REJECT_SYNTAX : CS_DECODE_REJECT_TRUNCATED);
	if (memcmp(p, lit, n))
		return CS__FAIL(js, CS_DECODE_REJECT_SYNTAX);
	return p + n;
}

/* ---- learned shapes: the recording side ---- */

/* What follows a segment of a shape. */
enum { CS__SV_STR, CS__SV_NUM, CS__SV_END };

#define CS__REC_MAX 1024 /* scalar values of an event that can be learned */

/*
 * The scalar values of one event, in order, as the scanner met them, then
 * (once the event is accepted) its end: v[k].b is where segment k ends.
 */
struct cs__rec_s {
	uint32_t n;
	int over; /* more than CS__REC_MAX: not learned */
	struct {
		const char *b, *e; /* the token; a string's b is after its opening quote, e after its closing one */
		uint32_t kind;     /* CS__SV_STR, CS__SV_NUM, or CS__SV_END for the event's end (b = e = its end) */
		const cs_dnode_t *node;
	} v[CS__REC_MAX + 1];
};

static __attribute__((noinline)) void cs__rec(cs__rec_t *rec, const char *b, const char *e, uint32_t kind,
					      const cs_dnode_t *node) {
	if (rec->n == CS__REC_MAX) {
		rec->over = 1;
		return;
	}
	rec->v[rec->n].b = b;
	rec->v[rec->n].e = e;
	rec->v[rec->n].kind = kind;
	rec->v[rec->n].node = node && node->nleaves ? node : NULL;
	rec->n++;
}

/*
 * A kid of node by key, the key's first 16 bytes in km (zero beyond the
 * key, klen <= 16): one probe of the perfect hash and a compare without
 * branches against the slot's key, padded with zero bytes as km is (the
 * empty slot's length matches none).
 */
static inline __attribute__((always_inline)) const cs_dnode_t *cs__kidv(const cs_dnode_t *node, __m128i km,
									 size_t klen) {
	const cs_dnode_t *k = node->tab[cs__dnode_slotv(node, km, klen)];
	unsigned eq = (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(km, _mm_loadu_si128((const __m128i *)(const void *)k->key)));
	return ((eq == 0xffffu) & (k->klen == klen)) ? k : NULL;
}

/* A kid of node by key (klen bytes at key, the message ending at end). */
static inline __attribute__((always_inline)) const cs_dnode_t *cs__kid(const cs_dnode_t *node, const char *key,
									size_t klen, const char *end) {
	if (__builtin_expect(node->tab != NULL, 1) && klen <= 16 && end - key >= 16)
		return cs__kidv(node, cs__kvec(key, klen), klen);
	return cs__dnode_kid(node, key, klen); /* longer keys; keys the slot hash cannot tell apart */
}

/* 1 if kid's key was seen before in the object numbered serial (a duplicate key), else notes it. */
static inline __attribute__((always_inline)) int cs__seen(cs_decode_t *dec, const cs_dnode_t *kid, uint64_t serial) {
	if (dec->stamps[kid->id] == serial)
		return 1;
	dec->stamps[kid->id] = serial;
	return 0;
}

/* The position after the byte c, white space allowed before it (compact JSON: none); or NULL. */
static inline __attribute__((always_inline)) const char *cs__expect(cs__js_t *js, const char *p, char c) {
	const char *end = js->end;
	if (__builtin_expect(p < end && *p == c, 1))
		return p + 1;
	p = cs__ws(p, end);
	if (p >= end)
		return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
	if (*p != c)
		return CS__FAIL(js, CS_DECODE_REJECT_SYNTAX);
	return p + 1;
}

static inline const char *cs__value(cs__js_t *js, const char *p, const cs_dnode_t *node);

static const char *cs__object(cs__js_t *js, const char *p, const cs_dnode_t *node) {
	cs_decode_t *dec = js->dec;
	const char *end = js->end;
	uint64_t serial = ++dec->obj_serial;

	if (++js->depth > js->max_depth)
		return CS__FAIL(js, CS_DECODE_REJECT_DEPTH);
	p = cs__ws(p + 1, end);
	if (p < end && *p == '}') {
		js->depth--;
		return p + 1;
	}
	for (;;) {
		const char *k;
		size_t kl;
		int kesc;
		const cs_dnode_t *kid = NULL;

		if (!(p = cs__expect(js, p, '"')))
			return NULL;
		if (__builtin_expect(end - p >= 16, 1)) {
			/* a key of at most 15 plain bytes (most keys; never over max.string.bytes,
			 * which is 16 or more): its bytes are already in the vector that found
			 * its end, and the kid is looked up from there */
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			unsigned m = cs__special(v);
			if (m && p[__builtin_ctz(m)] == '"') {
				k = p;
				kl = (size_t)__builtin_ctz(m);
				p += kl + 1;
				if (node && node->tab && kl > 0) {
					kid = cs__kidv(node, _mm_and_si128(v, cs__kmask(kl)), kl);
					if (kid && cs__seen(dec, kid, serial))
						return CS__FAIL(js, CS_DECODE_REJECT_DUP_KEY);
					goto colon;
				}
				kesc = 0;
				goto lookup; /* a node without a table (or none, or an empty key) */
			}
		}
		if (!(p = cs__string(js, p, &k, &kl, &kesc)))
			return NULL;
lookup:
		if (node && node->nkids && kl > 0) {
			if (kesc) {
				char kb[256];
				if (kl < sizeof(kb))
					kid = cs__dnode_kid(node, kb, cs__json_unescape(k, kl, kb));
			} else {
				kid = cs__kid(node, k, kl, end);
			}
			if (kid && cs__seen(dec, kid, serial))
				return CS__FAIL(js, CS_DECODE_REJECT_DUP_KEY);
		}
colon:
		if (!(p = cs__expect(js, p, ':')) || !(p = cs__value(js, p, kid)))
			return NULL;
		if (__builtin_expect(p < end && *p == ',', 1)) {
			p++;
			continue;
		}
		p = cs__ws(p, end);
		if (p >= end)
			return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '}') {
			js->depth--;
			return p + 1;
		}
		return CS__FAIL(js, CS_DECODE_REJECT_SYNTAX);
	}
}

static const char *cs__array(cs__js_t *js, const char *p, const cs_dnode_t *node) {
	const char *end = js->end;

	if (++js->depth > js->max_depth)
		return CS__FAIL(js, CS_DECODE_REJECT_DEPTH);
	p = cs__ws(p + 1, end);
	if (p < end && *p == ']') {
		js->depth--;
		return p + 1;
	}
	for (;;) {
		if (!(p = cs__value(js, p, node)))
			return NULL;
		p = cs__ws(p, end);
		if (p >= end)
			return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ']') {
			js->depth--;
			return p + 1;
		}
		return CS__FAIL(js, CS_DECODE_REJECT_SYNTAX);
	}
}

/* Inlined into cs__object and cs__array: the recursion goes through those two only. */
static inline __attribute__((always_inline)) const char *cs__value(cs__js_t *js, const char *p,
								    const cs_dnode_t *node) {
	cs_decode_reject_t r;
	const char *s;
	size_t len;
	int esc;

	p = cs__ws(p, js->end);
	if (p >= js->end)
		return CS__FAIL(js, CS_DECODE_REJECT_TRUNCATED);
	/* tests in the order of frequency, not a jump table: an indirect jump is the
	 * hardest branch to predict, and the type of the next value varies */
	if (*p == '"') {
		if (!(p = cs__string(js, p + 1, &s, &len, &esc)))
			return NULL;
		if (__builtin_expect(js->rec != NULL, 0))
			cs__rec(js->rec, s, p, CS__SV_STR, node);
		if (node)
			for (uint32_t i = 0; i < node->nleaves; i++)
				if ((r = cs__decode_emit_str(js->dec, &node->leaves[i], s, len, esc)) != CS_DECODE_OK)
					return CS__FAIL(js, r);
		return p;
	}
	if (CS__DIGIT(*p) || *p == '-') {
		if (!(p = cs__number(js, p, &s, &len)))
			return NULL;
		if (__builtin_expect(js->rec != NULL, 0))
			cs__rec(js->rec, s, p, CS__SV_NUM, node);
		if (node)
			for (uint32_t i = 0; i < node->nleaves; i++)
				if ((r = cs__decode_emit_num(js->dec, &node->leaves[i], s, len)) != CS_DECODE_OK)
					return CS__FAIL(js, r);
		return p;
	}
	if (*p == '{')
		return cs__object(js, p, node);
	if (*p == '[')
		return cs__array(js, p, node);
	if (*p == 't')
		return cs__literal(js, p, "true", 4);
	if (*p == 'f')
		return cs__literal(js, p, "false", 5);
	if (*p == 'n')
		return cs__literal(js, p, "null", 4);
	return CS__FAIL(js, CS_DECODE_REJECT_NUMBER); /* what the number scanner says of any other byte */
}

/*
 * ---- learned shapes: the walking side ----
 *
 * A stream of SOC events repeats a few shapes: the same keys in the same
 * order, with white space the same, only the scalar values differ. A shape is
 * the event with its strings' contents and its numbers cut out: a sequence of
 * segments (the bytes between two scalar values: punctuation, keys, literals,
 * white space), each followed by a string, a number or the end. The shapes of
 * accepted events are kept in a trie per format (a node: one segment and what
 * follows it; its kids: the segments seen after it), and an event is first
 * walked along it: each segment compared as bytes, each value scanned and
 * validated by the same functions as in the full scan, its field-map node
 * taken from the trie (the keys before it are the segments' bytes, so the node
 * is the one the full scan found). An event the walk reads to the end is one
 * the full scan accepts, with the same values in the same order at the same
 * paths: only its scalar tokens differ from an accepted event, and they are
 * cut where the full scan cuts them. Anything else - a segment no kid has, a
 * value that does not scan, an emitter's rejection - and the event is read
 * again by the full scan from its first byte, after the walk's observables are
 * dropped, and its shape is learned if it is accepted.
 */
typedef struct cs__snode_s {
	__m128i head;           /* the segment's first 16 bytes, zero beyond it */
	uint32_t hmask;         /* a bit for each of those bytes that is the segment's */
	uint32_t seglen;
	uint32_t rest;          /* where its bytes beyond the first 16 are in the pool */
	uint32_t kind;          /* CS__SV_*: what follows it */
	int32_t kid, next;      /* first kid, next sibling; -1: none */
	const cs_dnode_t *node; /* the value's field-map node when it has leaves, else NULL */
	uint32_t lit;           /* an unmapped value's last bytes, hashed */
	uint8_t same;           /* walks since they last changed */
	uint8_t changes;        /* times they changed (CS__FOLD_CHANGES: no longer followed) */
	uint8_t folds;          /* nodes folded from this one */
	uint8_t folded;         /* 1: a node made by folding */
	uint16_t hits, misses;  /* walks that had its segment, walks that tried it and had not (folded nodes) */
} cs__snode_t;

#define CS__SHAPE_POOL_PER_NODE 24 /* segment bytes budgeted per node */
#define CS__SHAPE_SEEN 512         /* shapes remembered as seen once */
#define CS__SHAPE_CHECK 1024       /* walks between two checks of the hit rate */
#define CS__SHAPE_PAUSE 16384      /* events read by the full scan alone after a check found most walks missed */
#define CS__FOLD_SAME 8            /* walks with an unmapped value unchanged before it is folded */
#define CS__FOLD_CHANGES 32        /* changes after which an unmapped value is taken as varying */
#define CS__FOLD_MAX 2             /* folds from one node */
#define CS__FOLD_SEG 256           /* the longest folded segment */
#define CS__FOLD_JUDGE 64          /* a folded node that had its segment fewer than 16 times when it missed 64 is unlinked */

struct cs__shapes_s {
	cs__snode_t *nodes;
	uint32_t nnodes, max_nodes;
	char *pool; /* segments, then 16 bytes of slack for vector loads */
	size_t pool_used, pool_size;
	int32_t first[CS_DECODE_FMT__CNT]; /* the first segments of each format's shapes */
	uint32_t walks, misses, pause;      /* walks and misses since the last check; events left unwalked */
	uint64_t walked, missed, flushes;   /* since the decoder was made */
	uint64_t folded, unfolded;          /* nodes made by folding, folded nodes unlinked (since the decoder was made) */
	uint64_t seen[CS__SHAPE_SEEN];      /* hashes of shapes seen once (learned when seen again) */
	cs__rec_t rec;
};

struct cs__shapes_s *cs__shapes_new(size_t max_nodes) {
	struct cs__shapes_s *sh = cs_calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	sh->max_nodes = (uint32_t)max_nodes;
	sh->pool_size = max_nodes * CS__SHAPE_POOL_PER_NODE;
	if (!(sh->nodes = cs_calloc(max_nodes, sizeof(*sh->nodes))) || !(sh->pool = cs_calloc(sh->pool_size + 16, 1))) {
		cs__shapes_destroy(sh);
		return NULL;
	}
	for (int f = 0; f < CS_DECODE_FMT__CNT; f++)
		sh->first[f] = -1;
	return sh;
}

void cs__shapes_destroy(struct cs__shapes_s *sh) {
	if (!sh)
		return;
	cs_free(sh->nodes);
	cs_free(sh->pool);
	cs_free(sh);
}

/* 1 if the message at p (ending at end) begins with n's segment. */
static inline __attribute__((always_inline)) int cs__seg_eq(const struct cs__shapes_s *sh, const cs__snode_t *n,
							     const char *p, const char *end) {
	if (__builtin_expect(end - p >= 16, 1)) {
		unsigned eq = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), n->head));
		if ((eq & n->hmask) != n->hmask)
			return 0;
	} else if ((size_t)(end - p) < n->seglen || memcmp(p, &n->head, n->seglen)) {
		return 0; /* fewer than 16 bytes left: the segment, if it fits, is shorter */
	}
	if (__builtin_expect(n->seglen <= 16, 1))
		return 1;
	if ((size_t)(end - p) < n->seglen)
		return 0;
	{
		/* the rest, 16 bytes at a time (the pool has 16 bytes of slack), the last ones masked */
		const char *a = p + 16, *b = sh->pool + n->rest;
		size_t left = n->seglen - 16;
		while (left >= 16) {
			if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)a),
							     _mm_loadu_si128((const __m128i *)(const void *)b))) != 0xffff)
				return 0;
			a += 16;
			b += 16;
			left -= 16;
		}
		if (!left)
			return 1;
		if (end - a >= 16) {
			unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(const void *)a), _mm_loadu_si128((const __m128i *)(const void *)b)));
			return (~eq & ((1u << left) - 1)) == 0;
		}
		return !memcmp(a, b, left);
	}
}

/*
 * The common number, 1 to 15 digits without a leading zero, fraction or
 * exponent, found in one vector: the position after it, or NULL for
 * cs__number to decide (what it accepts of these bytes is the same token).
 */
static inline __attribute__((always_inline)) const char *cs__int_fast(const char *p, const char *end, const char **sp,
								       size_t *lenp) {
	unsigned k;
	if (__builtin_expect(end - p < 16, 0))
		return NULL;
	k = (unsigned)__builtin_ctz(cs__nondigits(p) | 0x10000u);
	if (k == 0 || k == 16 || (p[0] == '0' && k > 1) || p[k] == '.' || (p[k] | 0x20) == 'e')
		return NULL;
	*sp = p;
	*lenp = k;
	return p + k;
}

/*
 * A new node (the next free one; the caller has checked there is one, and
 * pool room for the segment's bytes beyond 16) for the segment seg[0..seglen)
 * followed by a value of that kind and node; no kid, no sibling yet.
 */
static inline __attribute__((always_inline)) cs__snode_t *cs__snode_new(struct cs__shapes_s *sh, const char *seg,
									  uint32_t seglen, uint32_t kind,
									  const cs_dnode_t *node) {
	cs__snode_t *n = &sh->nodes[sh->nnodes++];
	char head[16] = {0};

	memcpy(head, seg, seglen < 16 ? seglen : 16);
	memset(n, 0, sizeof(*n));
	n->head = _mm_loadu_si128((const __m128i *)(const void *)head);
	n->hmask = seglen >= 16 ? 0xffffu : (1u << seglen) - 1;
	n->seglen = seglen;
	n->kind = kind;
	n->kid = n->next = -1;
	n->node = node;
	if (seglen > 16) {
		n->rest = (uint32_t)sh->pool_used;
		memcpy(sh->pool + sh->pool_used, seg + 16, seglen - 16);
		sh->pool_used += seglen - 16;
	}
	return n;
}

/*
 * Folding. An unmapped value that stays the same walk after walk (a version,
 * a sensor's name, "udp") is worth no scan: once it has been the same for
 * CS__FOLD_SAME walks, the node before it (A: its segment, then the value)
 * and the node the walk finds next (B) are folded into a new node M whose
 * segment is A's segment, the value's bytes and B's segment, the bytes of the
 * event walked, and which is followed by what follows B (B's value, leaves
 * and kids). M goes just before A among its siblings. An event that has M's
 * bytes is one the walk would have read through A and B the same way: the
 * same bytes scanned from the same place give the same tokens; one whose
 * value differs fails M's compare and goes on to A. A value is followed by a
 * hash of its first and last bytes and its length (a collision folds a value
 * that varies: a compare lost per event, no wrong result); one that changed
 * CS__FOLD_CHANGES times is no longer followed. A folded node that the walks
 * try and miss far more often than they take it (16 takes or fewer in 64
 * misses: its value came back for a while, then varied) costs more than it
 * saves and is unlinked (a fold made earlier from the list it was in may
 * still lead to it: it is as right there as anywhere, only slower; its slot
 * is taken back when the trie is next emptied). Folded segments are of
 * CS__FOLD_SEG bytes at most (a miss compares up to the first different
 * byte); folds take a quarter of the nodes and pool at most, leaving the rest
 * to learning; the learning side never takes an M for a segment it records (a
 * segment holds no value, M's bytes do, and the same bytes read from the same
 * place cannot be both).
 */
static inline __attribute__((always_inline)) uint32_t cs__lit_hash(const char *b, const char *e) {
	size_t l = (size_t)(e - b);
	uint64_t w0, w1;
	memcpy(&w0, b, 8); /* 16 bytes can be loaded at b */
	memcpy(&w1, b + 8, 8);
	if (l < 16) {
		w1 = l > 8 ? w1 & (~0ULL >> (8 * (16 - l))) : 0;
		w0 = l >= 8 ? w0 : w0 & ~(~0ULL << (8 * l));
	} else {
		uint64_t w2;
		memcpy(&w2, e - 8, 8);
		w1 ^= w2 * 0x9E3779B97F4A7C15ULL;
	}
	return (uint32_t)(((w0 * 0xC2B2AE3D27D4EB4FULL) ^ (w1 * 0x165667B19E3779F9ULL) ^ l) >> 32);
}

/* Folds the node linked from *link (its segment at pa) with node b, whose segment ends at e: before it. */
static void cs__shape_fold(struct cs__shapes_s *sh, int32_t *link, const char *pa, const char *e, int32_t b) {
	size_t seglen = (size_t)(e - pa);
	cs__snode_t *m;

	if (seglen > CS__FOLD_SEG || sh->nnodes >= sh->max_nodes - sh->max_nodes / 4 ||
	    sh->pool_used + seglen > sh->pool_size - sh->pool_size / 4)
		return;
	m = cs__snode_new(sh, pa, (uint32_t)seglen, sh->nodes[b].kind, sh->nodes[b].node);
	m->folded = 1;
	m->kid = sh->nodes[b].kid;
	m->next = *link;
	*link = (int32_t)(m - sh->nodes);
	sh->folded++;
}

/* Walks the event at buf along the shapes of format f: 1 and *consumed, or 0 (read it again). */
static int cs__shape_walk(cs__js_t *js, struct cs__shapes_s *sh, int f, const char *buf, size_t *consumed) {
	const char *p = buf, *end = js->end, *s;
	cs__snode_t *nodes = sh->nodes;
	int32_t *link = &sh->first[f], *flink = NULL; /* where the current node is linked from; the node to fold */
	int32_t i = *link;
	const char *fp = NULL; /* the segment of the node to fold, NULL: none */
	size_t len;
	int esc;

	for (;;) {
		cs__snode_t *n = NULL;
		const char *q = NULL;
		for (; i >= 0; i = *link) {
			n = &nodes[i];
			if (!cs__seg_eq(sh, n, p, end)) {
				if (__builtin_expect(n->folded, 0) && ++n->misses == CS__FOLD_JUDGE) {
					if (n->hits < CS__FOLD_JUDGE / 4) { /* it costs more than it saves: unlinked */
						*link = n->next;
						sh->unfolded++;
						continue;
					}
					n->hits = n->misses = 0;
				}
				link = &n->next;
				continue;
			}
			n->hits++; /* counted for every node (one add), judged for folded ones */
			q = p + n->seglen;
			if (__builtin_expect(fp != NULL, 0)) {
				cs__shape_fold(sh, flink, fp, q, i);
				fp = NULL;
			}
			if (n->kind == CS__SV_STR) {
				if (!(q = cs__string(js, q, &s, &len, &esc))) {
					link = &n->next;
					continue;
				}
				if (n->node)
					for (uint32_t l = 0; l < n->node->nleaves; l++)
						if (cs__decode_emit_str(js->dec, &n->node->leaves[l], s, len, esc) != CS_DECODE_OK)
							return 0;
			} else if (n->kind == CS__SV_NUM) {
				if (!(q = cs__int_fast(q, end, &s, &len)) && !(q = cs__number(js, p + n->seglen, &s, &len))) {
					link = &n->next;
					continue;
				}
				if (n->node)
					for (uint32_t l = 0; l < n->node->nleaves; l++)
						if (cs__decode_emit_num(js->dec, &n->node->leaves[l], s, len) != CS_DECODE_OK)
							return 0;
			} else {
				*consumed = (size_t)(cs__ws(q, end) - buf);
				return 1;
			}
			break;
		}
		if (i < 0)
			return 0;
		if (!n->node && n->changes < CS__FOLD_CHANGES && n->folds < CS__FOLD_MAX && end - (p + n->seglen) >= 16) {
			uint32_t h = cs__lit_hash(p + n->seglen, q);
			if (h != n->lit) {
				n->lit = h;
				n->same = 0;
				n->changes++;
			} else if (++n->same == CS__FOLD_SAME) {
				n->same = 0;
				n->folds++;
				flink = link;
				fp = p;
			}
		}
		p = q;
		link = &n->kid;
		i = n->kid;
	}
}

/* A hash of the shape of the recorded event at buf in format f. */
static uint64_t cs__shape_hash(const cs__rec_t *rec, int f, const char *buf) {
	uint64_t h = 0x9E3779B97F4A7C15ULL * (uint64_t)(f + 1);
	const char *prev = buf;
	for (uint32_t k = 0; k < rec->n; k++) {
		const char *b = rec->v[k].b;
		uint64_t w;
		for (; b - prev >= 8; prev += 8) {
			memcpy(&w, prev, 8);
			h = (h ^ w) * 0xC2B2AE3D27D4EB4FULL;
			h ^= h >> 29;
		}
		w = 0;
		memcpy(&w, prev, (size_t)(b - prev));
		h = (h ^ w ^ ((uint64_t)(b - prev) << 61) ^ ((uint64_t)rec->v[k].kind << 59)) * 0x165667B19E3779F9ULL;
		h ^= h >> 31;
		prev = rec->v[k].e;
	}
	return h | 1; /* never 0, the empty entry */
}

/*
 * Adds the shape of the accepted event at buf (its object ending at oend), as
 * recorded, to format f's trie: on its second sighting, so that one-off shapes
 * (a rare event, a malformed neighbour) do not take the room of the stream's
 * own. A trie too full for it is emptied first: the shapes in use come back
 * on their next two events.
 */
static void cs__shape_learn(struct cs__shapes_s *sh, int f, const char *buf, const char *oend) {
	cs__rec_t *rec = &sh->rec;
	int32_t *link = &sh->first[f];
	const char *prev = buf;
	uint64_t h, *seen;

	if (rec->over || rec->n + 1 > sh->max_nodes || (size_t)(oend - buf) > sh->pool_size)
		return; /* larger than the whole trie */
	rec->v[rec->n].b = rec->v[rec->n].e = oend; /* the last segment: up to the end of the event */
	rec->v[rec->n].kind = CS__SV_END;
	rec->v[rec->n].node = NULL;
	rec->n++;
	h = cs__shape_hash(rec, f, buf);
	seen = &sh->seen[h % CS__SHAPE_SEEN];
	if (*seen != h) {
		*seen = h;
		return;
	}
	*seen = 0;
	if (sh->nnodes + rec->n + 1 > sh->max_nodes || sh->pool_used + (size_t)(oend - buf) > sh->pool_size) {
		sh->nnodes = 0;
		sh->pool_used = 0;
		for (int i = 0; i < CS_DECODE_FMT__CNT; i++)
			sh->first[i] = -1;
		sh->flushes++;
	}
	for (uint32_t k = 0; k < rec->n; k++) {
		const char *b = rec->v[k].b;
		uint32_t kind = rec->v[k].kind, seglen = (uint32_t)(b - prev);
		int32_t i;
		for (i = *link; i >= 0; i = sh->nodes[i].next) {
			const cs__snode_t *n = &sh->nodes[i];
			if (n->kind == kind && n->seglen == seglen && cs__seg_eq(sh, n, prev, b))
				break;
			link = &sh->nodes[i].next;
		}
		if (i < 0) {
			i = (int32_t)(cs__snode_new(sh, prev, seglen, kind, rec->v[k].node) - sh->nodes);
			*link = i;
		}
		link = &sh->nodes[i].kid;
		prev = rec->v[k].e;
	}
}

cs_decode_reject_t cs__decode_json(cs_decode_t *dec, cs_decode_fmt_t fmt, const char *buf, size_t len,
				   size_t *consumed) {
	cs__js_t js = {dec, buf + len, 0, (int)dec->conf->max_depth, (size_t)dec->conf->max_string_bytes,
		       CS_DECODE_OK, NULL};
	struct cs__shapes_s *sh = dec->shapes;
	const char *p;

	*consumed = 0;
	if (sh) {
		if (sh->pause) {
			sh->pause--;
		} else {
			if (cs__shape_walk(&js, sh, (int)fmt, buf, consumed)) {
				sh->walks++;
				sh->walked++;
				return CS_DECODE_OK;
			}
			/* drop what the walk emitted; the full scan reads the event again */
			size_t offset = dec->ev.offset;
			const char *raw = dec->ev.raw;
			cs__decode_event_reset(dec);
			dec->ev.offset = offset;
			dec->ev.raw = raw;
			*consumed = 0;
			js.r = CS_DECODE_OK;
			js.rec = &sh->rec;
			sh->rec.n = 0;
			sh->rec.over = 0;
			sh->missed++;
			if (++sh->misses + sh->walks >= CS__SHAPE_CHECK) {
				if (sh->misses > sh->walks) /* shapes that do not repeat: stop trying for a while */
					sh->pause = CS__SHAPE_PAUSE;
				sh->misses = sh->walks = 0;
			}
		}
	}
	p = cs__ws(buf, js.end);
	if (p >= js.end)
		return CS_DECODE_REJECT_EMPTY;
	if (*p != '{')
		return CS_DECODE_REJECT_NOT_EVENT;
	if (!(p = cs__object(&js, p, dec->conf->root[fmt])))
		return js.r;
	if (js.rec)
		cs__shape_learn(sh, (int)fmt, buf, p);
	*consumed = (size_t)(cs__ws(p, js.end) - buf);
	return CS_DECODE_OK;
}

size_t cs__json_unescape(const char *s, size_t len, char *out) {
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\' || i + 1 >= len) {
			/* the run up to the next escape, at once */
			const char *bs = memchr(s + i, '\\', len - i);
			size_t n = bs ? (size_t)(bs - (s + i)) : len - i;
			if (n == 0)
				n = 1; /* a backslash at the very end */
			memmove(out + o, s + i, n);
			o += n;
			i += n - 1;
			continue;
		}
		i++;
		switch (s[i]) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			unsigned cp;
			int v;
			if (i + 4 >= len || (v = cs__hex4(s + i + 1)) < 0) {
				out[o++] = '?';
				break;
			}
			cp = (unsigned)v;
			i += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u') {
				int lo = cs__hex4(s + i + 3);
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
					i += 6;
				}
			}
			if (cp < 0x80) {
				out[o++] = (char)cp;
			} else if (cp < 0x800) {
				out[o++] = (char)(0xC0 | (cp >> 6));
				out[o++] = (char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				out[o++] = (char)(0xE0 | (cp >> 12));
				out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				out[o++] = (char)(0x80 | (cp & 0x3F));
			} else {
				out[o++] = (char)(0xF0 | (cp >> 18));
				out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
				out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				out[o++] = (char)(0x80 | (cp & 0x3F));
			}
			break;
		}
		default: out[o++] = s[i]; break; /* \" \\ \/ */
		}
	}
	return o;
}

void cs_decode_shape_stats(const cs_decode_t *dec, cs_decode_shape_stats_t *st) {
	const struct cs__shapes_s *sh = dec->shapes;
	memset(st, 0, sizeof(*st));
	if (sh) {
		st->walked = sh->walked;
		st->missed = sh->missed;
		st->nodes = sh->nnodes;
		st->flushes = sh->flushes;
		st->folded = sh->folded;
		st->unfolded = sh->unfolded;
		st->paused = sh->pause > 0;
	}
	if (dec->cef_seq) {
		st->cef_predicted = dec->cef_seq->predicted;
		st->cef_found = dec->cef_seq->found;
		st->cef_folded = dec->cef_seq->folded;
	}
}
