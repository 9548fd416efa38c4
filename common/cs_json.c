/*
 * cs_json.c - the JSON writer and its string escaping.
 * DESIGN: pure functions over caller-owned state; any thread; no allocation
 * (the stream may allocate). See cs_json.h for what is escaped and why.
 */
#include <math.h>
#include <string.h>
#include <inttypes.h>

#include "cs_json.h"

/* The length of the well-formed UTF-8 sequence at s[0..n) (1-4), or 0 if it is not one. */
static size_t cs__utf8_len(const unsigned char *s, size_t n) {
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF; /* no overlongs, no surrogates */
		return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF; /* U+10000..U+10FFFF */
		return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
	}
	return 0;
}

size_t cs_json_escape(char *dst, const char *s, size_t len) {
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		unsigned c = p[i];
		size_t l;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			dst[o++] = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			dst[o++] = '\\';
			switch (c) {
			case '"': dst[o++] = '"'; break;
			case '\\': dst[o++] = '\\'; break;
			case '\n': dst[o++] = 'n'; break;
			case '\r': dst[o++] = 'r'; break;
			case '\t': dst[o++] = 't'; break;
			default:
				dst[o++] = 'u';
				dst[o++] = '0';
				dst[o++] = '0';
				dst[o++] = hex[c >> 4];
				dst[o++] = hex[c & 15];
			}
			i++;
			continue;
		}
		if ((l = cs__utf8_len(p + i, len - i))) {
			memcpy(dst + o, p + i, l);
			o += l;
			i += l;
			continue;
		}
		memcpy(dst + o, "\\ufffd", 6); /* not UTF-8: the replacement character, one per byte */
		o += 6;
		i++;
	}
	return o;
}

void cs_json_write_str(FILE *fp, const char *s, size_t len) {
	char buf[CS_JSON_ESC_MAX * 256];
	fputc('"', fp);
	while (len) {
		/* 256 bytes at a time, never cutting a UTF-8 sequence in two */
		size_t n = len < 256 ? len : 256;
		while (n < len && n > 252 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		fwrite(buf, 1, cs_json_escape(buf, s, n), fp);
		s += n;
		len -= n;
	}
	fputc('"', fp);
}

void cs_jw_init(cs_jw_t *jw, FILE *fp) {
	memset(jw, 0, sizeof(*jw));
	jw->fp = fp;
	jw->first[0] = 1;
}

/* Before a value or a key: the comma, unless first at its depth or right after a key. */
static void cs__jw_sep(cs_jw_t *jw) {
	if (jw->after_key) {
		jw->after_key = 0;
		return;
	}
	if (!jw->first[jw->depth])
		fputc(',', jw->fp);
	jw->first[jw->depth] = 0;
}

static void cs__jw_open(cs_jw_t *jw, int c) {
	cs__jw_sep(jw);
	fputc(c, jw->fp);
	if (jw->depth + 1 < CS_JW_DEPTH)
		jw->depth++;
	jw->first[jw->depth] = 1;
}

static void cs__jw_close(cs_jw_t *jw, int c) {
	fputc(c, jw->fp);
	if (jw->depth > 0)
		jw->depth--;
}

void cs_jw_obj_begin(cs_jw_t *jw) { cs__jw_open(jw, '{'); }
void cs_jw_obj_end(cs_jw_t *jw) { cs__jw_close(jw, '}'); }
void cs_jw_arr_begin(cs_jw_t *jw) { cs__jw_open(jw, '['); }
void cs_jw_arr_end(cs_jw_t *jw) { cs__jw_close(jw, ']'); }

void cs_jw_key(cs_jw_t *jw, const char *key) {
	cs__jw_sep(jw);
	cs_json_write_str(jw->fp, key, strlen(key));
	fputc(':', jw->fp);
	jw->after_key = 1;
}

void cs_jw_strn(cs_jw_t *jw, const char *s, size_t len) {
	cs__jw_sep(jw);
	cs_json_write_str(jw->fp, s, len);
}

void cs_jw_str(cs_jw_t *jw, const char *s) {
	if (!s) {
		cs_jw_null(jw);
		return;
	}
	cs_jw_strn(jw, s, strlen(s));
}

void cs_jw_int(cs_jw_t *jw, int64_t v) {
	cs__jw_sep(jw);
	fprintf(jw->fp, "%" PRId64, v);
}

void cs_jw_uint(cs_jw_t *jw, uint64_t v) {
	cs__jw_sep(jw);
	fprintf(jw->fp, "%" PRIu64, v);
}

void cs_jw_double(cs_jw_t *jw, double v, int digits) {
	cs__jw_sep(jw);
	if (isfinite(v))
		fprintf(jw->fp, "%.*g", digits, v);
	else
		fputs("null", jw->fp);
}

void cs_jw_fixed(cs_jw_t *jw, double v, int decimals) {
	cs__jw_sep(jw);
	if (isfinite(v))
		fprintf(jw->fp, "%.*f", decimals, v);
	else
		fputs("null", jw->fp);
}

void cs_jw_kfixed(cs_jw_t *jw, const char *key, double v, int decimals) {
	cs_jw_key(jw, key);
	cs_jw_fixed(jw, v, decimals);
}

void cs_jw_bool(cs_jw_t *jw, int v) {
	cs__jw_sep(jw);
	fputs(v ? "true" : "false", jw->fp);
}

void cs_jw_null(cs_jw_t *jw) {
	cs__jw_sep(jw);
	fputs("null", jw->fp);
}

void cs_jw_kstr(cs_jw_t *jw, const char *key, const char *s) {
	cs_jw_key(jw, key);
	cs_jw_str(jw, s);
}

void cs_jw_kstrn(cs_jw_t *jw, const char *key, const char *s, size_t len) {
	cs_jw_key(jw, key);
	cs_jw_strn(jw, s, len);
}

void cs_jw_kint(cs_jw_t *jw, const char *key, int64_t v) {
	cs_jw_key(jw, key);
	cs_jw_int(jw, v);
}

void cs_jw_kuint(cs_jw_t *jw, const char *key, uint64_t v) {
	cs_jw_key(jw, key);
	cs_jw_uint(jw, v);
}

void cs_jw_kbool(cs_jw_t *jw, const char *key, int v) {
	cs_jw_key(jw, key);
	cs_jw_bool(jw, v);
}
