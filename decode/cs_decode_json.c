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

typedef struct cs__js_s {
	cs_decode_t *dec;
	const char *p, *end;
	int depth, max_depth;
	size_t max_str;
} cs__js_t;

#define CS__WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

static inline void cs__ws(cs__js_t *js) {
	/* compact JSON has none: one compare decides in the common case */
	if (__builtin_expect(js->p < js->end && (unsigned char)*js->p > ' ', 1))
		return;
	while (js->p < js->end && CS__WS(*js->p))
		js->p++;
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

/* js->p is just after the opening quote. On success js->p is after the closing quote. */
static inline __attribute__((always_inline)) cs_decode_reject_t cs__string(cs__js_t *js, const char **sp, size_t *lenp, int *escaped) {
	const char *p = js->p, *end = js->end, *start = p;
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x20);
	int esc = 0;

	for (;;) {
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
						 _mm_cmplt_epi8(v, ctl));
			int mask = _mm_movemask_epi8(m);
			if (mask) {
				p += __builtin_ctz((unsigned)mask);
				goto special;
			}
			p += 16;
		}
		while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
		       (unsigned char)*p < 0x80)
			p++;
		if (p >= end)
			return CS_DECODE_REJECT_TRUNCATED;
special:
		switch (*p) {
		case '"':
			*sp = start;
			*lenp = (size_t)(p - start);
			*escaped = esc;
			js->p = p + 1;
			return *lenp > js->max_str ? CS_DECODE_REJECT_STRING : CS_DECODE_OK;
		case '\\':
			esc = 1;
			if (end - p < 2)
				return CS_DECODE_REJECT_TRUNCATED;
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
					return CS_DECODE_REJECT_TRUNCATED;
				if ((cp = cs__hex4(p + 2)) < 0)
					return CS_DECODE_REJECT_BAD_ESCAPE;
				p += 6;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return CS_DECODE_REJECT_BAD_ESCAPE; /* lone low surrogate */
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					int lo;
					if ((end - p >= 1 && p[0] != '\\') || (end - p >= 2 && p[1] != 'u'))
						return CS_DECODE_REJECT_BAD_ESCAPE; /* unpaired high surrogate */
					if (end - p < 6)
						return CS_DECODE_REJECT_TRUNCATED;
					if (p[0] != '\\' || p[1] != 'u' || (lo = cs__hex4(p + 2)) < 0xDC00 ||
					    lo > 0xDFFF)
						return CS_DECODE_REJECT_BAD_ESCAPE; /* unpaired high surrogate */
					p += 6;
				}
				break;
			}
			default:
				return CS_DECODE_REJECT_BAD_ESCAPE;
			}
			break;
		default:
			if ((unsigned char)*p < 0x20)
				return CS_DECODE_REJECT_SYNTAX; /* raw control character */
			{
				size_t n = cs__utf8_seq((const unsigned char *)p, (const unsigned char *)end);
				if (!n) {
					/* a valid lead byte cut off by the end of the message is truncation */
					unsigned char c = (unsigned char)*p;
					long need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
					int cont = c >= 0xC2 && c <= 0xF4 && end - p < need;
					for (const char *t = p + 1; cont && t < end; t++)
						cont = ((unsigned char)*t & 0xC0) == 0x80;
					return cont ? CS_DECODE_REJECT_TRUNCATED : CS_DECODE_REJECT_BAD_UTF8;
				}
				p += n;
			}
			break;
		}
	}
}

static cs_decode_reject_t cs__number(cs__js_t *js, const char **sp, size_t *lenp) {
	const char *p = js->p, *end = js->end, *start = p;

	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return CS_DECODE_REJECT_TRUNCATED;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return CS_DECODE_REJECT_NUMBER;
	if (p < end && *p == '.') {
		const char *d = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return p >= end ? CS_DECODE_REJECT_TRUNCATED : CS_DECODE_REJECT_NUMBER;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		const char *d;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		d = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return p >= end ? CS_DECODE_REJECT_TRUNCATED : CS_DECODE_REJECT_NUMBER;
	}
	if (p - start > 64)
		return CS_DECODE_REJECT_NUMBER;
	*sp = start;
	*lenp = (size_t)(p - start);
	js->p = p;
	return CS_DECODE_OK;
}

static cs_decode_reject_t cs__literal(cs__js_t *js, const char *lit, size_t n) {
	size_t have = (size_t)(js->end - js->p);
	if (have < n)
		return memcmp(js->p, lit, have) ? CS_DECODE_REJECT_SYNTAX : CS_DECODE_REJECT_TRUNCATED;
	if (memcmp(js->p, lit, n))
		return CS_DECODE_REJECT_SYNTAX;
	js->p += n;
	return CS_DECODE_OK;
}

static cs_decode_reject_t cs__value(cs__js_t *js, const cs_dnode_t *node);

static cs_decode_reject_t cs__object(cs__js_t *js, const cs_dnode_t *node) {
	cs_decode_t *dec = js->dec;
	uint64_t serial = ++dec->obj_serial;
	cs_decode_reject_t r;

	if (++js->depth > js->max_depth)
		return CS_DECODE_REJECT_DEPTH;
	js->p++;
	cs__ws(js);
	if (js->p < js->end && *js->p == '}') {
		js->p++;
		js->depth--;
		return CS_DECODE_OK;
	}
	for (;;) {
		const char *k;
		size_t kl;
		int kesc;
		const cs_dnode_t *kid = NULL;

		cs__ws(js);
		if (js->p >= js->end)
			return CS_DECODE_REJECT_TRUNCATED;
		if (*js->p != '"')
			return CS_DECODE_REJECT_SYNTAX;
		js->p++;
		if ((r = cs__string(js, &k, &kl, &kesc)) != CS_DECODE_OK)
			return r;
		if (node && node->nkids && kl > 0) {
			if (kesc) {
				char kb[256];
				if (kl < sizeof(kb))
					kid = cs__dnode_kid(node, kb, cs__json_unescape(k, kl, kb));
			} else {
				kid = cs__dnode_kid(node, k, kl);
			}
			if (kid) {
				if (dec->stamps[kid->id] == serial)
					return CS_DECODE_REJECT_DUP_KEY;
				dec->stamps[kid->id] = serial;
			}
		}
		cs__ws(js);
		if (js->p >= js->end)
			return CS_DECODE_REJECT_TRUNCATED;
		if (*js->p != ':')
			return CS_DECODE_REJECT_SYNTAX;
		js->p++;
		if ((r = cs__value(js, kid)) != CS_DECODE_OK)
			return r;
		cs__ws(js);
		if (js->p >= js->end)
			return CS_DECODE_REJECT_TRUNCATED;
		if (*js->p == ',') {
			js->p++;
			continue;
		}
		if (*js->p == '}') {
			js->p++;
			js->depth--;
			return CS_DECODE_OK;
		}
		return CS_DECODE_REJECT_SYNTAX;
	}
}

static cs_decode_reject_t cs__array(cs__js_t *js, const cs_dnode_t *node) {
	cs_decode_reject_t r;

	if (++js->depth > js->max_depth)
		return CS_DECODE_REJECT_DEPTH;
	js->p++;
	cs__ws(js);
	if (js->p < js->end && *js->p == ']') {
		js->p++;
		js->depth--;
		return CS_DECODE_OK;
	}
	for (;;) {
		if ((r = cs__value(js, node)) != CS_DECODE_OK)
			return r;
		cs__ws(js);
		if (js->p >= js->end)
			return CS_DECODE_REJECT_TRUNCATED;
		if (*js->p == ',') {
			js->p++;
			continue;
		}
		if (*js->p == ']') {
			js->p++;
			js->depth--;
			return CS_DECODE_OK;
		}
		return CS_DECODE_REJECT_SYNTAX;
	}
}

static cs_decode_reject_t cs__value(cs__js_t *js, const cs_dnode_t *node) {
	cs_decode_reject_t r;
	const char *s;
	size_t len;
	int esc;

	cs__ws(js);
	if (js->p >= js->end)
		return CS_DECODE_REJECT_TRUNCATED;
	switch (*js->p) {
	case '{':
		return cs__object(js, node);
	case '[':
		return cs__array(js, node);
	case '"':
		js->p++;
		if ((r = cs__string(js, &s, &len, &esc)) != CS_DECODE_OK)
			return r;
		if (node)
			for (uint32_t i = 0; i < node->nleaves; i++)
				if ((r = cs__decode_emit_str(js->dec, &node->leaves[i], s, len, esc)) != CS_DECODE_OK)
					return r;
		return CS_DECODE_OK;
	case 't':
		return cs__literal(js, "true", 4);
	case 'f':
		return cs__literal(js, "false", 5);
	case 'n':
		return cs__literal(js, "null", 4);
	default:
		if ((r = cs__number(js, &s, &len)) != CS_DECODE_OK)
			return r;
		if (node)
			for (uint32_t i = 0; i < node->nleaves; i++)
				if ((r = cs__decode_emit_num(js->dec, &node->leaves[i], s, len)) != CS_DECODE_OK)
					return r;
		return CS_DECODE_OK;
	}
}

cs_decode_reject_t cs__decode_json(cs_decode_t *dec, const cs_dnode_t *root, const char *buf, size_t len,
				   size_t *consumed) {
	cs__js_t js = {dec, buf, buf + len, 0, (int)dec->conf->max_depth, (size_t)dec->conf->max_string_bytes};
	cs_decode_reject_t r;

	cs__ws(&js);
	if (js.p >= js.end)
		return CS_DECODE_REJECT_EMPTY;
	if (*js.p != '{')
		return CS_DECODE_REJECT_NOT_EVENT;
	r = cs__object(&js, root);
	cs__ws(&js);
	*consumed = (size_t)(js.p - buf);
	return r;
}

size_t cs__json_unescape(const char *s, size_t len, char *out) {
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\' || i + 1 >= len) {
			out[o++] = s[i];
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
