/*
 * 0015-json: the one JSON writer (common/cs_json.c), escaping tested once.
 * Known cases (quotes, backslash, controls, every kind of ill-formed UTF-8:
 * stray continuation bytes, overlong forms, surrogates, beyond U+10FFFF,
 * sequences cut short), then 20,000 random byte strings, each written and
 * read back by jansson, which refuses invalid JSON and invalid UTF-8: valid
 * UTF-8 must come back byte for byte. The writer's commas in nested objects
 * and arrays. A log line quoting invalid UTF-8 and control bytes, captured
 * from stderr, must parse as JSON with its fields.
 */
#include <unistd.h>
#include <fcntl.h>
#include <jansson.h>

#include "cs_test.h"
#include "cs_common.h"
#include "cs_json.h"

static const char *cs__esc(const char *s, size_t len) {
	static char out[CS_JSON_ESC_MAX * 64 + 1];
	out[cs_json_escape(out, s, len)] = '\0';
	return out;
}

/* Writes s as a JSON string and reads it back with jansson; the decoded bytes in back. */
static int cs__roundtrip(const char *s, size_t len, char *back, size_t size, size_t *blen) {
	char *buf = NULL;
	size_t bl = 0;
	FILE *fp = open_memstream(&buf, &bl);
	json_error_t e;
	json_t *j;
	if (!fp)
		return -1;
	cs_json_write_str(fp, s, len);
	fclose(fp);
	j = json_loadb(buf, bl, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!j || !json_is_string(j)) {
		CS_TEST_SAY("jansson refused %s: %s", buf, e.text);
		free(buf);
		json_decref(j);
		return -1;
	}
	*blen = json_string_length(j);
	if (*blen > size)
		*blen = size;
	memcpy(back, json_string_value(j), *blen);
	json_decref(j);
	free(buf);
	return 0;
}

/* Is s[0..len) well-formed UTF-8 (independent of the writer: by code point ranges)? */
static int cs__utf8_ok(const unsigned char *s, size_t len) {
	for (size_t i = 0; i < len;) {
		unsigned c = s[i], need, cp, min;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			need = 1, cp = c & 0x1F, min = 0x80;
		else if ((c & 0xF0) == 0xE0)
			need = 2, cp = c & 0x0F, min = 0x800;
		else if ((c & 0xF8) == 0xF0)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += need + 1;
	}
	return 1;
}

int cs_test_0015(void) {
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{"plain", 5, "plain"},
		{"a\"b\\c", 5, "a\\\"b\\\\c"},
		{"\n\r\t\x01\x1f\x7f", 6, "\\n\\r\\t\\u0001\\u001f\x7f"},
		{"nul\0x", 5, "nul\\u0000x"},
		{"caf\xc3\xa9", 5, "caf\xc3\xa9"},                       /* U+00E9 */
		{"\xe2\x82\xac", 3, "\xe2\x82\xac"},                     /* U+20AC */
		{"\xf0\x9f\x9b\xa1", 4, "\xf0\x9f\x9b\xa1"},             /* U+1F6E1 */
		{"\x80", 1, "\\ufffd"},                                  /* a stray continuation byte */
		{"\xc0\x80", 2, "\\ufffd\\ufffd"},                       /* overlong NUL */
		{"\xe0\x80\xaf", 3, "\\ufffd\\ufffd\\ufffd"},            /* overlong '/' */
		{"\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd"},            /* a surrogate */
		{"\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* beyond U+10FFFF */
		{"\xe2\x82", 2, "\\ufffd\\ufffd"},                       /* cut short */
		{"ok\xff!", 4, "ok\\ufffd!"},
	};
	char back[512];
	size_t blen;
	unsigned seed = 15;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		CS_TEST_ASSERT(!strcmp(cs__esc(cases[i].in, cases[i].len), cases[i].out), "case %zu: %s, expected %s", i,
			       cs__esc(cases[i].in, cases[i].len), cases[i].out);
	/* the independent UTF-8 check agrees on the cases */
	CS_TEST_ASSERT(cs__utf8_ok((const unsigned char *)"caf\xc3\xa9", 5) && !cs__utf8_ok((const unsigned char *)"\xed\xa0\x80", 3),
		       "utf8 reference");

	/* random bytes, biased towards UTF-8 lead and continuation bytes */
	for (int n = 0; n < 20000; n++) {
		unsigned char s[48];
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(s));
		for (size_t i = 0; i < len; i++) {
			int r = rand_r(&seed) % 8;
			s[i] = (unsigned char)(r < 3 ? rand_r(&seed) % 128 : r < 5 ? 0x80 + rand_r(&seed) % 64
								     : 0xC0 + rand_r(&seed) % 64);
		}
		CS_TEST_EQ_INT(cs__roundtrip((const char *)s, len, back, sizeof(back), &blen), 0);
		if (cs__utf8_ok(s, len))
			CS_TEST_ASSERT(blen == len && !memcmp(back, s, len), "valid UTF-8 changed (string %d)", n);
		else
			CS_TEST_ASSERT(memmem(back, blen, "\xef\xbf\xbd", 3), "invalid UTF-8 without U+FFFD (string %d)", n);
	}
	/* a long string crosses the writer's 256-byte chunks without cutting a character */
	{
		char big[1000];
		for (size_t i = 0; i + 3 <= sizeof(big); i += 3)
			memcpy(big + i, "\xe2\x82\xac", 3);
		big[999] = 'x';
		CS_TEST_EQ_INT(cs__roundtrip(big, sizeof(big), back, sizeof(back), &blen), 0);
		CS_TEST_ASSERT(!memcmp(back, big, 300), "chunked euro signs changed");
	}

	/* the writer's commas */
	{
		char *buf = NULL;
		size_t bl = 0;
		FILE *fp = open_memstream(&buf, &bl);
		cs_jw_t jw;
		cs_jw_init(&jw, fp);
		cs_jw_obj_begin(&jw);
		cs_jw_kstr(&jw, "a", "x");
		cs_jw_key(&jw, "b");
		cs_jw_arr_begin(&jw);
		cs_jw_int(&jw, -1);
		cs_jw_obj_begin(&jw);
		cs_jw_obj_end(&jw);
		cs_jw_arr_begin(&jw);
		cs_jw_arr_end(&jw);
		cs_jw_null(&jw);
		cs_jw_arr_end(&jw);
		cs_jw_kbool(&jw, "c", 1);
		cs_jw_kuint(&jw, "d", UINT64_MAX);
		cs_jw_key(&jw, "e");
		cs_jw_double(&jw, 1.0 / 0.0, 6);
		cs_jw_kstr(&jw, "f", NULL);
		cs_jw_obj_end(&jw);
		fclose(fp);
		CS_TEST_EQ_STR(buf, "{\"a\":\"x\",\"b\":[-1,{},[],null],\"c\":true,\"d\":18446744073709551615,\"e\":null,\"f\":null}");
		free(buf);
	}

	/* a log line quoting what a hostile event carried */
	{
		char path[512], line[8192];
		int fd, saved = dup(2);
		FILE *fp;
		json_t *j;
		json_error_t e;
		snprintf(path, sizeof(path), "%s/log.txt", cs_test_tmpdir());
		CS_TEST_ASSERT((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0, "open");
		fflush(stderr);
		dup2(fd, 2);
		cs_log(CS_LOG_ERROR, "t\xff", "bad \xc0\xaf value \"%s\" \x01\x7f %s", "\xed\xa0\x80", "end");
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		close(fd);
		CS_TEST_ASSERT((fp = fopen(path, "r")) && fgets(line, sizeof(line), fp), "no log line");
		fclose(fp);
		j = json_loads(line, 0, &e);
		CS_TEST_ASSERT(j, "log line is not JSON (%s): %s", e.text, line);
		CS_TEST_EQ_STR(json_string_value(json_object_get(j, "level")), "error");
		CS_TEST_EQ_STR(json_string_value(json_object_get(j, "mod")), "t\xef\xbf\xbd");
		CS_TEST_EQ_STR(json_string_value(json_object_get(j, "msg")),
			       "bad \xef\xbf\xbd\xef\xbf\xbd value \"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\" \x01\x7f end");
		json_decref(j);
	}
	return 0;
}
