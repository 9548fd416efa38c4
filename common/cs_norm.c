/*
 * cs_norm.c - see cs_norm.h.
 * DESIGN: pure functions on caller buffers; no locale, no allocation, any
 * thread. Used on the hot path of decoding: keep the ASCII paths short.
 */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <emmintrin.h>

#include "cs_norm.h"
#include "cs_obs.h"

static inline char cs__lower(char c) {
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* ---- punycode (RFC 3492) ---- */

static int cs__utf8_decode(const unsigned char *s, size_t len, uint32_t *cps, size_t max) {
	size_t n = 0, i = 0;
	while (i < len) {
		uint32_t c = s[i], cp;
		int extra;
		if (c < 0x80) {
			cp = c;
			extra = 0;
		} else if ((c & 0xE0) == 0xC0) {
			cp = c & 0x1F;
			extra = 1;
		} else if ((c & 0xF0) == 0xE0) {
			cp = c & 0x0F;
			extra = 2;
		} else if ((c & 0xF8) == 0xF0) {
			cp = c & 0x07;
			extra = 3;
		} else
			return -1;
		i++;
		for (int k = 0; k < extra; k++, i++) {
			if (i >= len || (s[i] & 0xC0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		if (n == max)
			return -1;
		cps[n++] = cp;
	}
	return (int)n;
}

static char cs__pc_digit(uint32_t d) {
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static uint32_t cs__pc_adapt(uint32_t delta, uint32_t npoints, int first) {
	uint32_t k = 0;
	delta = first ? delta / 700 : delta / 2;
	delta += delta / npoints;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 * delta) / (delta + 38);
}

int cs_norm_punycode(const char *label, size_t len, char *out, size_t cap) {
	uint32_t cps[256], n = 128, delta = 0, bias = 72, h, b = 0;
	int cnt = cs__utf8_decode((const unsigned char *)label, len, cps, 256);
	size_t o = 0;

	if (cnt <= 0 || cap < 5)
		return -1;
	memcpy(out, "xn--", 4);
	o = 4;
	for (int i = 0; i < cnt; i++)
		if (cps[i] < 0x80) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = cs__lower((char)cps[i]);
			b++;
		}
	h = b;
	if (b > 0) {
		if (o + 1 >= cap)
			return -1;
		out[o++] = '-';
	}
	while (h < (uint32_t)cnt) {
		uint32_t m = UINT32_MAX;
		for (int i = 0; i < cnt; i++)
			if (cps[i] >= n && cps[i] < m)
				m = cps[i];
		if ((m - n) > (UINT32_MAX - delta) / (h + 1))
			return -1;
		delta += (m - n) * (h + 1);
		n = m;
		for (int i = 0; i < cnt; i++) {
			if (cps[i] < n && ++delta == 0)
				return -1;
			if (cps[i] == n) {
				uint32_t q = delta;
				for (uint32_t k = 36;; k += 36) {
					uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
					if (q < t)
						break;
					if (o + 1 >= cap)
						return -1;
					out[o++] = cs__pc_digit(t + (q - t) % (36 - t));
					q = (q - t) / (36 - t);
				}
				if (o + 1 >= cap)
					return -1;
				out[o++] = cs__pc_digit(q);
				bias = cs__pc_adapt(delta, h + 1, h == b);
				delta = 0;
				h++;
			}
		}
		delta++;
		n++;
	}
	out[o] = '\0';
	return (int)o;
}

/* ---- hosts ---- */

static int cs__valid_domain(const char *s, size_t len) {
	size_t label = 0;
	int dots = 0;

	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			dots++;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_'))
			return 0;
		if (label == 0 && c == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	if (label == 0 || dots == 0 || s[len - 1] == '-')
		return 0;
	for (size_t i = len - label; i < len; i++) /* an all-numeric TLD is no domain (1.2.3.256) */
		if (!isdigit((unsigned char)s[i]))
			return 1;
	return 0;
}

/* Rewrites non-ASCII labels as punycode. Returns 0 or -1. */
static int cs__idn(char *buf, size_t *lenp, size_t cap) {
	char out[1024], pc[256];
	size_t len = *lenp, o = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && buf[i] != '.')
			continue;
		size_t l = i - start;
		int ascii = 1;
		for (size_t k = start; k < i; k++)
			if ((unsigned char)buf[k] >= 0x80)
				ascii = 0;
		if (ascii) {
			if (o + l + 1 >= sizeof(out))
				return -1;
			memcpy(out + o, buf + start, l);
			o += l;
		} else {
			int n = cs_norm_punycode(buf + start, l, pc, sizeof(pc));
			if (n < 0 || o + (size_t)n + 1 >= sizeof(out))
				return -1;
			memcpy(out + o, pc, (size_t)n);
			o += (size_t)n;
		}
		if (i < len)
			out[o++] = '.';
		start = i + 1;
	}
	if (o + 1 > cap)
		return -1;
	memcpy(buf, out, o);
	buf[o] = '\0';
	*lenp = o;
	return 0;
}

int cs_norm_ipv4_canonical(const char *s, size_t len) {
	const char *p = s, *e = s + len;
	for (int part = 0; part < 4; part++) {
		unsigned v, d;
		if (p >= e || (v = (unsigned)(unsigned char)*p++ - '0') > 9)
			return 0;
		if (p < e && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
			if (v == 0)
				return 0; /* leading zero */
			v = v * 10 + d;
			if (++p < e && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
				v = v * 10 + d;
				if (v > 255)
					return 0;
				p++;
			}
		}
		if (part < 3 && (p >= e || *p++ != '.'))
			return 0;
	}
	return p == e;
}

int cs_norm_ipv4_canonical16(const char *s, size_t len) {
	/*
	 * Without a branch on the bytes: the octets' lengths are random to a
	 * branch predictor, and a misprediction per octet costs more than the
	 * whole check. Bit masks of the 16 bytes (bit i: byte i), cut to len.
	 */
	const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	const unsigned in = (1u << len) - 1;
#define CS__MASK(x) ((unsigned)_mm_movemask_epi8(x) & in)
	unsigned dig = CS__MASK(_mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0'))),
					       _mm_set1_epi8((char)(0x80 + 10 - 256))));
	unsigned dot = CS__MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
	unsigned zero = CS__MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('0')));
	unsigned gt2 = CS__MASK(_mm_cmpgt_epi8(v, _mm_set1_epi8('2'))), eq2 = CS__MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('2')));
	unsigned gt5 = CS__MASK(_mm_cmpgt_epi8(v, _mm_set1_epi8('5'))), eq5 = CS__MASK(_mm_cmpeq_epi8(v, _mm_set1_epi8('5')));
#undef CS__MASK
	unsigned starts = (1u | dot << 1) & in;           /* an octet's first byte */
	unsigned d1 = dot & (dot - 1), d2 = d1 & (d1 - 1); /* the dots after the first, after the second */
	unsigned three = starts & dig & dig >> 1 & dig >> 2; /* an octet of three digits begins here */
	return ((dig | dot) == in) &                            /* digits and dots only */
	       (d2 != 0) & ((d2 & (d2 - 1)) == 0) &             /* three dots */
	       ((dot & (dot >> 1 | 1u | 1u << (len - 1))) == 0) & /* no empty octet */
	       ((dig & dig >> 1 & dig >> 2 & dig >> 3) == 0) &  /* none of four digits */
	       ((zero & starts & dig >> 1) == 0) &              /* no leading zero */
	       ((three & (gt2 | (eq2 & (gt5 >> 1 | (eq5 >> 1 & gt5 >> 2))))) == 0); /* none above "255" */
}

/* Character classes of host names, for the one-pass scan below. */
#define CS__HC_DOM 0x01   /* a-z 0-9 - _ (after lower-casing) */
#define CS__HC_DIGIT 0x02
#define CS__HC_UPPER 0x04
#define CS__HC_HIGH 0x08  /* >= 0x80 */
#define CS__HC_DOT 0x10
static unsigned char cs__hc[256]; /* filled once before main() (constructor), read-only after */

__attribute__((constructor)) static void cs__hc_init(void) {
	for (int c = 0; c < 256; c++) {
		unsigned char k = 0;
		if ((c >= 'a' && c <= 'z') || c == '-' || c == '_')
			k |= CS__HC_DOM;
		if (c >= 'A' && c <= 'Z')
			k |= CS__HC_DOM | CS__HC_UPPER;
		if (c >= '0' && c <= '9')
			k |= CS__HC_DOM | CS__HC_DIGIT;
		if (c >= 0x80)
			k |= CS__HC_HIGH;
		if (c == '.')
			k |= CS__HC_DOT;
		cs__hc[c] = k;
	}
}

/*
 * The common case of cs_norm_host in one vector pass: a host of at most 64
 * bytes, read and written 16 bytes at a time (SSE2, part of x86-64), so the
 * caller makes sure buf[0..len + 16) is its own (cap). Upper-case letters are
 * lower-cased in place (bytes past len are stored back unchanged); a bit per
 * byte says digit, dot, hyphen or other. Decides a plain ASCII domain (-1 or
 * CS_OBS_DOMAIN); anything else (non-ASCII, IPv6, digits and dots only, a
 * byte outside [a-z0-9._-]) returns 0 and is left, only lower-cased, to the
 * byte-by-byte path, which gives the same answers.
 */
static int cs__host_vec(char *buf, size_t *lenp) {
	size_t len = *lenp, nb = (len + 15) / 16;
	uint64_t in = len == 64 ? ~0ULL : (1ULL << len) - 1, dig = 0, dot = 0, hy = 0, ok = 0, hi = 0;
	const __m128i up_lo = _mm_set1_epi8((char)(0x80 - 'A')), up_lt = _mm_set1_epi8((char)(0x80 + 26 - 256));
	const __m128i lo_lo = _mm_set1_epi8((char)(0x80 - 'a')), dg_lo = _mm_set1_epi8((char)(0x80 - '0'));
	const __m128i dg_lt = _mm_set1_epi8((char)(0x80 + 10 - 256)), x20 = _mm_set1_epi8(0x20);

	for (size_t b = 0; b < nb; b++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + b * 16));
		uint64_t lane = (in >> (b * 16)) & 0xffff;
		__m128i keep = _mm_cmplt_epi8(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
					       _mm_set1_epi8((char)(len - b * 16 > 16 ? 16 : len - b * 16)));
		__m128i up = _mm_and_si128(_mm_cmplt_epi8(_mm_add_epi8(v, up_lo), up_lt), keep);
		__m128i lv = _mm_or_si128(v, _mm_and_si128(up, x20));
		__m128i al = _mm_cmplt_epi8(_mm_add_epi8(lv, lo_lo), up_lt);
		__m128i dg = _mm_cmplt_epi8(_mm_add_epi8(v, dg_lo), dg_lt);
		__m128i dt = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
		__m128i hh = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
		__m128i us = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
		_mm_storeu_si128((__m128i *)(void *)(buf + b * 16), lv);
		dig |= (uint64_t)((unsigned)_mm_movemask_epi8(dg) & lane) << (b * 16);
		dot |= (uint64_t)((unsigned)_mm_movemask_epi8(dt) & lane) << (b * 16);
		hy |= (uint64_t)((unsigned)_mm_movemask_epi8(hh) & lane) << (b * 16);
		hi |= (uint64_t)((unsigned)_mm_movemask_epi8(v) & lane) << (b * 16);
		ok |= (uint64_t)((unsigned)_mm_movemask_epi8(
				 _mm_or_si128(_mm_or_si128(al, dg), _mm_or_si128(_mm_or_si128(dt, hh), us))) &
			 lane)
		      << (b * 16);
	}
	if (hi || (ok & in) != in)
		return 0; /* non-ASCII (IDN), ':' (IPv6) or no host: the long way */
	if (dot >> (len - 1) & 1) { /* one trailing dot is dropped */
		len--;
		in >>= 1;
		dot &= in;
	}
	if (len == 0 || ((dig | dot) & in) == in)
		return 0; /* digits and dots only: a dotted quad was tried before, the rest is rare */
	/* a domain: two labels or more, none empty, none starting or ending with '-' */
	if (!dot || (dot & 1) || (dot & (dot >> 1)) || (dot >> (len - 1) & 1) ||
	    (hy & ((dot << 1) | 1)) || (hy & ((dot >> 1) | (1ULL << (len - 1)))))
		return -1;
	{
		uint64_t tld = in & ~((2ULL << (63 - __builtin_clzll(dot))) - 1);
		if ((dig & tld) == tld)
			return -1; /* an all-numeric TLD is no domain (1.2.3.256) */
	}
	buf[len] = '\0';
	*lenp = len;
	return CS_OBS_DOMAIN;
}

int cs_norm_host(char *buf, size_t *lenp, size_t cap) {
	size_t len = *lenp;

	/* the commonest host of all: a canonical dotted quad */
	if (len >= 7 && len <= 15 && buf[0] >= '0' && buf[0] <= '9' && cs_norm_ipv4_canonical(buf, len)) {
		buf[len] = '\0';
		return CS_OBS_IPV4;
	}
	if (len > 0 && len <= 64 && cap >= len + 16 && buf[0] != '[') {
		int t = cs__host_vec(buf, lenp);
		if (t)
			return t;
	}
	return cs_norm_host_bytewise(buf, lenp, cap);
}

int cs_norm_host_bytewise(char *buf, size_t *lenp, size_t cap) {
	size_t len = *lenp;
	unsigned char addr[16], any = 0, all = 0xff;
	int nonascii;

	if (len >= 2 && buf[0] == '[' && buf[len - 1] == ']') {
		memmove(buf, buf + 1, len - 2);
		len -= 2;
	}
	/* one pass: lower-case, and learn which classes of characters occur */
	for (size_t i = 0; i < len; i++) {
		unsigned char k = cs__hc[(unsigned char)buf[i]];
		if (k & CS__HC_UPPER)
			buf[i] = (char)(buf[i] + 32);
		any |= k;
		all &= (k & CS__HC_DOT) ? 0xff : k; /* dots aside */
	}
	if (len > 0 && buf[len - 1] == '.')
		len--;
	buf[len] = '\0';
	if (len == 0 || len > 1000)
		return -1;
	nonascii = (any & CS__HC_HIGH) != 0;
	/* the common cases first: a canonical dotted quad, or a plain ASCII domain */
	if ((all & CS__HC_DIGIT) && len < 16 && cs_norm_ipv4_canonical(buf, len)) {
		*lenp = len;
		return CS_OBS_IPV4;
	}
	if ((all & CS__HC_DOM) && !(all & CS__HC_DIGIT)) {
		if (!cs__valid_domain(buf, len))
			return -1;
		*lenp = len;
		return CS_OBS_DOMAIN;
	}
	if (len < 46 && !nonascii && (isdigit((unsigned char)buf[0]) || strchr(buf, ':'))) {
		if (inet_pton(AF_INET, buf, addr) == 1) {
			if (cap < 16)
				return -1;
			inet_ntop(AF_INET, addr, buf, (socklen_t)cap);
			*lenp = strlen(buf);
			return CS_OBS_IPV4;
		}
		if (inet_pton(AF_INET6, buf, addr) == 1) {
			static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
			if (cap < 46)
				return -1;
			if (!memcmp(addr, mapped, 12)) {
				inet_ntop(AF_INET, addr + 12, buf, (socklen_t)cap);
				*lenp = strlen(buf);
				return CS_OBS_IPV4;
			}
			inet_ntop(AF_INET6, addr, buf, (socklen_t)cap);
			*lenp = strlen(buf);
			return CS_OBS_IPV6;
		}
	}
	if (nonascii && cs__idn(buf, &len, cap))
		return -1;
	if (!cs__valid_domain(buf, len))
		return -1;
	*lenp = len;
	return CS_OBS_DOMAIN;
}

/* ---- URLs ---- */

static int cs__hexval(char c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	c = cs__lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int cs__unreserved(unsigned char c) {
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/*
 * Decodes %XX of unreserved characters, upper-cases the others, from s into
 * out (out == s: in place). With stray25, a '%' that starts no escape is
 * written "%25" (out needs 3 * len bytes then, and out != s): else a second
 * normalization could decode an escape the first one made ("%%33" -> "%3").
 */
static size_t cs__pct_norm(const char *s, size_t len, char *out, int stray25) {
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < len && (h = cs__hexval(s[i + 1])) >= 0 &&
		    (l = cs__hexval(s[i + 2])) >= 0) {
			unsigned char c = (unsigned char)(h * 16 + l);
			if (cs__unreserved(c)) {
				out[o++] = (char)c;
			} else {
				out[o++] = '%';
				out[o++] = (char)toupper((unsigned char)s[i + 1]);
				out[o++] = (char)toupper((unsigned char)s[i + 2]);
			}
			i += 2;
		} else if (s[i] == '%' && stray25) {
			memcpy(out + o, "%25", 3);
			o += 3;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

/* Percent-encodes control characters, space, DEL and non-ASCII bytes (as browsers send them). */
static size_t cs__pct_encode(const char *in, size_t len, char *out, size_t cap) {
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < len && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= 0x20 || c >= 0x7f) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	return o;
}

/* RFC 3986 5.2.4 remove_dot_segments on a path that starts with '/'. In place. */
static size_t cs__dot_segments(char *p, size_t len) {
	size_t o = 0, i = 0;
	while (i < len) {
		if (len - i >= 3 && !memcmp(p + i, "/./", 3)) {
			i += 2;
		} else if (len - i == 2 && !memcmp(p + i, "/.", 2)) {
			p[i + 1] = '/';
			i += 1;
			len = i + 1;
		} else if ((len - i >= 4 && !memcmp(p + i, "/../", 4)) || (len - i == 3 && !memcmp(p + i, "/..", 3))) {
			int last = len - i == 3;
			while (o > 0 && p[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			if (last) {
				p[o++] = '/';
				i = len;
			} else {
				i += 3;
			}
		} else {
			p[o++] = p[i++];
			while (i < len && p[i] != '/')
				p[o++] = p[i++];
		}
	}
	if (o == 0)
		p[o++] = '/';
	return o;
}

/* Bit i: byte i of the 16 at p is a control, space or non-ASCII byte (< 0x21 or >= 0x7f), or c1 or c2. */
static inline __attribute__((always_inline)) unsigned cs__url_bad(__m128i v, char c1, char c2) {
	return (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
			     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(c1)), _mm_cmpeq_epi8(v, _mm_set1_epi8(c2)))));
}

/*
 * Where the host ends (he: at '/', '?', '#' or len) and the path's checks,
 * 16 bytes at a time (buf has 16 bytes of room past len): 1 if the host has
 * none of ':', '@', '[', '%', the path none of '%', '#', and no byte of
 * either is a control, space or non-ASCII byte, and no "/." comes before the
 * first '?' of the path; else 0. What the byte loops of cs__url_plain() find.
 */
static int cs__url_scan16(const char *buf, size_t len, size_t hs, size_t *hep) {
	size_t p, he = len;
	unsigned carry = 0, after_q = 0;

	for (p = hs; p < len; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + p));
		unsigned in = len - p >= 16 ? 0xffffu : (1u << (len - p)) - 1;
		unsigned stop = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')), _mm_cmpeq_epi8(v, _mm_set1_epi8('?'))),
			_mm_cmpeq_epi8(v, _mm_set1_epi8('#')))) & in;
		unsigned bad = (cs__url_bad(v, ':', '@') |
				(unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('[')),
									 _mm_cmpeq_epi8(v, _mm_set1_epi8('%'))))) & in;
		if (stop) {
			he = p + (size_t)__builtin_ctz(stop);
			if (bad & ((stop & -stop) - 1))
				return 0;
			break;
		}
		if (bad)
			return 0;
	}
	*hep = he;
	/* the path, from he: the byte just before p was seen as host or path */
	for (p = he; p < len; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + p));
		unsigned in = len - p >= 16 ? 0xffffu : (1u << (len - p)) - 1;
		if (cs__url_bad(v, '%', '#') & in)
			return 0;
		if (!after_q) {
			unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('?'))) & in;
			unsigned sl = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('/'))) & in;
			unsigned dt = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))) & in;
			unsigned pairs = ((sl << 1) | carry) & dt; /* a '.' right after a '/' */
			if (q) {
				pairs &= (q & -q) - 1; /* before the first '?' */
				after_q = 1;
			}
			if (pairs)
				return 0; /* maybe a dot segment */
			carry = sl >> 15 & 1;
		}
	}
	return 1;
}

/*
 * The common case of cs_norm_url in one pass: a lower-case scheme of letters,
 * an authority that is a host alone (no userinfo, port or IPv6 literal), a
 * path that starts with '/' and has no dot segment, printable ASCII only, no
 * '%' and no '#'. Only the host can change then (cs_norm_host). Returns 1
 * (normalized; the host at *hoff, *hlen, of type *htype), -1 (no URL) or 0
 * (not this case: the long way, which gives the same answers).
 */
static int cs__url_plain(char *buf, size_t *lenp, size_t cap, size_t *hoff, size_t *hlen, int *htype) {
	size_t len = *lenp, i, hs, he, hl;
	char host[1100];
	const char *q;

	if (len > CS_NORM_MAX_IN)
		return 0;
	for (i = 0; i < len && buf[i] >= 'a' && buf[i] <= 'z'; i++)
		;
	if (i == 0 || len - i < 4 || buf[i] != ':' || buf[i + 1] != '/' || buf[i + 2] != '/')
		return 0;
	hs = i + 3;
	if (cap >= len + 16) {
		if (!cs__url_scan16(buf, len, hs, &he))
			return 0;
		hl = he - hs;
		if (he == len || buf[he] != '/' || hl == 0 || hl >= 1024)
			return 0;
	} else {
		for (he = hs; he < len && buf[he] != '/' && buf[he] != '?' && buf[he] != '#'; he++) {
			unsigned char c = (unsigned char)buf[he];
			if (c <= 0x20 || c >= 0x7f || c == ':' || c == '@' || c == '[' || c == '%')
				return 0;
		}
		hl = he - hs;
		if (he == len || buf[he] != '/' || hl == 0 || hl >= 1024)
			return 0;
		for (i = he; i < len; i++) {
			unsigned char c = (unsigned char)buf[i];
			if (c <= 0x20 || c >= 0x7f || c == '%' || c == '#')
				return 0;
		}
		q = memchr(buf + he, '?', len - he);
		if (memmem(buf + he, (size_t)((q ? q : buf + len) - (buf + he)), "/.", 2))
			return 0; /* maybe a dot segment */
	}
	memcpy(host, buf + hs, hl);
	host[hl] = '\0';
	if ((*htype = cs_norm_host(host, &hl, sizeof(host))) < 0)
		return -1;
	if (*htype == CS_OBS_IPV6 || hs + hl + (len - he) + 1 > cap)
		return 0;
	if (hl != he - hs)
		memmove(buf + hs + hl, buf + he, len - he);
	memcpy(buf + hs, host, hl);
	*lenp = hs + hl + (len - he);
	buf[*lenp] = '\0';
	*hoff = hs;
	*hlen = hl;
	return 1;
}

int cs_norm_url_host(char *buf, size_t *lenp, size_t cap, size_t *hoff, size_t *hlen, int *htype) {
	int r = cs__url_plain(buf, lenp, cap, hoff, hlen, htype);
	if (r)
		return r > 0 ? 0 : -1;
	*htype = -1;
	return cs_norm_url_bytewise(buf, lenp, cap);
}

int cs_norm_url(char *buf, size_t *lenp, size_t cap) {
	size_t hoff, hlen;
	int htype;
	return cs_norm_url_host(buf, lenp, cap, &hoff, &hlen, &htype);
}

int cs_norm_url_bytewise(char *buf, size_t *lenp, size_t cap) {
	char host[1100], tail[CS_NORM_CAP];
	size_t len = *lenp, i, as, ae, hs, he, hl, tl, ps;
	const char *sep;
	long port = -1;
	int dport = 0, htype;

	buf[len] = '\0';
	if (len > CS_NORM_MAX_IN || !(sep = strstr(buf, "://")) || sep == buf)
		return -1;
	as = (size_t)(sep - buf);
	for (i = 0; i < as; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (!isalpha(c) && !(i > 0 && (isdigit(c) || c == '+' || c == '-' || c == '.')))
			return -1;
		buf[i] = cs__lower((char)c);
	}
	if (as == 4 && !memcmp(buf, "http", 4))
		dport = 80;
	else if (as == 5 && !memcmp(buf, "https", 5))
		dport = 443;
	else if (as == 3 && !memcmp(buf, "ftp", 3))
		dport = 21;
	as += 3;
	for (ae = as; ae < len && buf[ae] != '/' && buf[ae] != '?' && buf[ae] != '#'; ae++)
		;
	hs = as;
	for (i = as; i < ae; i++)
		if (buf[i] == '@')
			hs = i + 1;
	he = ae;
	if (hs < ae && buf[hs] == '[') {
		const char *rb = memchr(buf + hs, ']', ae - hs);
		if (!rb)
			return -1;
		he = (size_t)(rb - buf) + 1;
	} else {
		const char *colon = memchr(buf + hs, ':', ae - hs);
		if (colon)
			he = (size_t)(colon - buf);
	}
	if (he < ae) {
		if (buf[he] != ':')
			return -1;
		port = 0;
		for (i = he + 1; i < ae; i++) {
			if (!isdigit((unsigned char)buf[i]) || port > 65535)
				return -1;
			port = port * 10 + (buf[i] - '0');
		}
		if (he + 1 == ae || port == dport)
			port = -1;
		else if (port > 65535)
			return -1;
	}
	hl = he - hs;
	if (hl == 0 || hl >= 1024)
		return -1;
	memcpy(host, buf + hs, hl);
	host[hl] = '\0';
	hl = cs__pct_norm(host, hl, host, 0); /* %2E in a host (a stray '%' fails the host) */
	host[hl] = '\0';
	if ((htype = cs_norm_host(host, &hl, sizeof(host))) < 0)
		return -1;
	/* path?query, fragment dropped */
	tl = 0;
	ps = ae;
	{
		size_t end = ps, rl = 0;
		char raw[CS_NORM_MAX_IN + 2];
		while (end < len && buf[end] != '#')
			end++;
		if (ps == end || buf[ps] == '?')
			raw[rl++] = '/';
		memcpy(raw + rl, buf + ps, end - ps);
		rl += end - ps;
		tl = cs__pct_norm(raw, rl, tail, 1); /* at most 3 * rl bytes */
		/* dot segments in the path part only */
		{
			char *q = memchr(tail, '?', tl);
			size_t pl = q ? (size_t)(q - tail) : tl, ql = tl - pl;
			char qbuf[CS_NORM_CAP];
			memcpy(qbuf, tail + pl, ql);
			pl = cs__dot_segments(tail, pl);
			memcpy(tail + pl, qbuf, ql);
			tl = pl + ql;
			memcpy(qbuf, tail, tl);
			tl = cs__pct_encode(qbuf, tl, tail, sizeof(tail));
		}
	}
	for (i = as; i < hs; i++) /* userinfo: no raw controls or spaces */
		if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] == 0x7f)
			return -1;
	/* reassemble: scheme://[userinfo@]host[:port]tail */
	{
		char out[CS_NORM_CAP + 1200];
		size_t o = 0;
		memcpy(out, buf, as);
		o = as;
		memcpy(out + o, buf + as, hs - as);
		o += hs - as;
		if (htype == CS_OBS_IPV6)
			out[o++] = '[';
		memcpy(out + o, host, hl);
		o += hl;
		if (htype == CS_OBS_IPV6)
			out[o++] = ']';
		if (port >= 0)
			o += (size_t)snprintf(out + o, 8, ":%ld", port);
		memcpy(out + o, tail, tl);
		o += tl;
		if (o + 1 > cap)
			return -1;
		memcpy(buf, out, o);
		buf[o] = '\0';
		*lenp = o;
	}
	return 0;
}

/* ---- hashes and e-mail ---- */

int cs_norm_hash(char *buf, size_t len) {
	for (size_t i = 0; i < len; i++) {
		char c = cs__lower(buf[i]);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		buf[i] = c;
	}
	return len == 32 ? CS_OBS_MD5 : len == 40 ? CS_OBS_SHA1 : len == 64 ? CS_OBS_SHA256 : -1;
}

int cs_norm_email(char *buf, size_t *lenp, size_t cap) {
	size_t len = *lenp, s = 0, e = len, at, dl;
	char *lt = memchr(buf, '<', len), *gt;

	if (lt && (gt = memchr(lt, '>', len - (size_t)(lt - buf)))) {
		s = (size_t)(lt - buf) + 1;
		e = (size_t)(gt - buf);
	}
	while (s < e && isspace((unsigned char)buf[s]))
		s++;
	while (e > s && isspace((unsigned char)buf[e - 1]))
		e--;
	memmove(buf, buf + s, e - s);
	len = e - s;
	buf[len] = '\0';
	{
		char *a = memchr(buf, '@', len);
		if (!a || a == buf || memchr(a + 1, '@', len - (size_t)(a - buf) - 1))
			return -1;
		at = (size_t)(a - buf);
	}
	for (size_t i = 0; i < at; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c <= ' ' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';')
			return -1;
		buf[i] = cs__lower((char)c);
	}
	dl = len - at - 1;
	if (cs_norm_host(buf + at + 1, &dl, cap - at - 1) != CS_OBS_DOMAIN)
		return -1;
	*lenp = at + 1 + dl;
	return 0;
}

/* ---- text compared as a whole (cs_norm.h) ---- */

/*
 * A STIX string comparison on a text observable as a Hyperscan expression:
 * "=" the whole value ("^...$", every byte literal), LIKE with % and _ ("^...$"),
 * MATCHES the regular expression as written. 0, or -1 when it does not fit.
 */
int cs_norm_text_re(const char *op, const char *v, char *out, size_t size) {
	size_t o = 0;
	int like = !strcmp(op, "LIKE");
	if (!strncmp(op, "MATCHES", 7))
		return (size_t)snprintf(out, size, "%s", v) < size ? 0 : -1;
	if (size < 3)
		return -1;
	out[o++] = '^';
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if (o + 6 >= size)
			return -1;
		if (like && c == '%')
			o += (size_t)snprintf(out + o, size - o, ".*");
		else if (like && c == '_')
			out[o++] = '.';
		else if (c < 0x20 || c >= 0x7f || strchr("\\^$.|?*+()[]{}/#", c))
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '$';
	out[o] = '\0';
	return 0;
}

/*
 * The text a whole-value pattern stands for ("^powershell\\x2eexe -enc$" is
 * "powershell.exe -enc": how the loader writes STIX "=" on text), or NULL when
 * value is not one (a regular expression of its own, or any other indicator).
 */
const char *cs_norm_text_literal(const char *value, char *out, size_t size) {
	size_t n = strlen(value), o = 0;
	if (n < 2 || value[0] != '^' || value[n - 1] != '$')
		return NULL;
	for (size_t i = 1; i + 1 < n; i++) {
		unsigned v;
		if (o + 1 >= size)
			return NULL;
		if (value[i] == '\\') {
			if (value[i + 1] != 'x' || i + 4 > n - 1 || sscanf(value + i + 2, "%2x", &v) != 1)
				return NULL;
			out[o++] = (char)v;
			i += 3;
		} else if (strchr("^$.|?*+()[]{}", value[i])) {
			return NULL;
		} else {
			out[o++] = value[i];
		}
	}
	out[o] = '\0';
	return out;
}
