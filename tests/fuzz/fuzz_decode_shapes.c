/*
 * libFuzzer target: the learned-shape walk against the full scan. The input
 * is a message of newline-delimited events; the first byte picks the format.
 * Each event is decoded twice by a decoder that learns shapes (kept across
 * inputs, so that variants of earlier inputs are walked) and once by a
 * decoder without shapes; a difference in the rejection, the bytes consumed
 * or anything of the decoded event traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cs_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void describe(cs_decode_t *dec, cs_decode_fmt_t fmt, const char *buf, size_t len, char *out, size_t size,
		     size_t *used) {
	cs_decode_event_t ev;
	cs_decode_reject_t r = cs_decode_one(dec, fmt, buf, len, used, &ev);
	size_t o = (size_t)snprintf(out, size, "%d %zu %d %lld %d %zu %zu %zu|%.*s|%.*s", (int)r, *used, (int)ev.fmt,
				    (long long)ev.ts_ms, ev.severity, ev.offset, ev.length, ev.obs_cnt,
				    ev.org ? (int)ev.org_len : 0, ev.org ? ev.org : "",
				    ev.category ? (int)ev.category_len : 0, ev.category ? ev.category : "");
	for (size_t i = 0; i < ev.obs_cnt && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "|%d %d %.*s", (int)ev.obs[i].type, (int)ev.obs[i].role,
				      (int)ev.obs[i].len, ev.obs[i].value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static cs_decode_conf_t *conf_with, *conf_none;
	static cs_decode_t *with, *none;
	static char a[1 << 17], b[1 << 17];
	char errstr[128];
	const char *p, *end;
	cs_decode_fmt_t fmt;

	if (!with) {
		conf_with = cs_decode_conf_new();
		conf_none = cs_decode_conf_new();
		cs_decode_conf_set(conf_none, "shape.nodes", "0", errstr, sizeof(errstr));
		cs_decode_conf_set(conf_with, "shape.nodes", "512", errstr, sizeof(errstr)); /* small: flushes too */
		with = cs_decode_new(conf_with, errstr, sizeof(errstr));
		none = cs_decode_new(conf_none, errstr, sizeof(errstr));
		if (!with || !none)
			__builtin_trap();
	}
	if (size < 1)
		return 0;
	fmt = (cs_decode_fmt_t)(data[0] % CS_DECODE_FMT__CNT);
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		size_t ua = 0, ub = 0;
		for (int twice = 0; twice < 2; twice++) {
			describe(with, fmt, p, (size_t)(end - p), a, sizeof(a), &ua);
			describe(none, fmt, p, (size_t)(end - p), b, sizeof(b), &ub);
			if (strcmp(a, b))
				__builtin_trap();
		}
		if (!ua)
			break;
		p += ua;
	}
	return 0;
}
