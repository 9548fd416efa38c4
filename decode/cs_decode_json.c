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
typedef struct cs__js_s {
	cs_decode_t *dec;
	const char *end;
	int depth, max_depth;
	size_t max_str;
	cs_decode_reject_t r; /* why the last call returned NULL */
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
			if (*lenp > js->max_str)
				return CS__FAIL(js, CS_DECODE_REJECT_STRING);
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

/* The first byte in [p, end) that is no digit, or end; 16 bytes at a time. */
static inline __attribute__((always_inline)) const char *cs__digits(const char *p, const char *end) {
	const __m128i off = _mm_set1_epi8((char)(0x80 - '0')), lim = _mm_set1_epi8((char)(0x80 + 10 - 256));
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(v, off), lim)) ^ 0xffffu;
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
		if (node)
			for (uint32_t i = 0; i < node->nleaves; i++)
				if ((r = cs__decode_emit_str(js->dec, &node->leaves[i], s, len, esc)) != CS_DECODE_OK)
					return CS__FAIL(js, r);
		return p;
	}
	if (CS__DIGIT(*p) || *p == '-') {
		if (!(p = cs__number(js, p, &s, &len)))
			return NULL;
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

cs_decode_reject_t cs__decode_json(cs_decode_t *dec, const cs_dnode_t *root, const char *buf, size_t len,
				   size_t *consumed) {
	cs__js_t js = {dec, buf + len, 0, (int)dec->conf->max_depth, (size_t)dec->conf->max_string_bytes,
		       CS_DECODE_OK};
	const char *p = cs__ws(buf, js.end);

	*consumed = 0;
	if (p >= js.end)
		return CS_DECODE_REJECT_EMPTY;
	if (*p != '{')
		return CS_DECODE_REJECT_NOT_EVENT;
	if (!(p = cs__object(&js, p, root)))
		return js.r;
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
