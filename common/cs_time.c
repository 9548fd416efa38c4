/*
 * cs_time.c - clocks and timestamp parsing.
 * DESIGN: pure functions, any thread; no locale, no TZ lookups (timegm-free
 * civil-date arithmetic so parsing is reentrant and fast).
 */
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "cs_common.h"

int64_t cs_clock_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cs_wall_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t cs__days_from_civil(int64_t y, int m, int d) {
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Two decimal digits at s, or -1. */
static inline int cs__d2(const char *s) {
	unsigned a = (unsigned)(unsigned char)s[0] - '0', b = (unsigned)(unsigned char)s[1] - '0';
	return (a > 9 || b > 9) ? -1 : (int)(a * 10 + b);
}

/* 1 if the 11 bytes at a and b are equal (two overlapping 8-byte loads). */
static inline int cs__same11(const char *a, const char *b) {
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 3, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 3, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

cs_err_t cs_time_parse_iso8601_memo(cs_time_memo_t *memo, const char *s, size_t len, int64_t *ms_out) {
	int sec = 0, ms = 0, tzh = 0, tzm = 0, sign = 0;
	int64_t minute;
	size_t p;

	if (len < 16)
		return CS_ERR_PARSE;
	{
		int h, m;
		int64_t day;
		if (memo && memo->valid && cs__same11(s, memo->prefix)) {
			day = memo->day_s; /* the same date as the last one: most of a stream */
		} else {
			int Y, M, D, y1, y2;
			/* the date, "YYYY-MM-DD" and 'T' or ' ', at fixed places */
			if ((y1 = cs__d2(s)) < 0 || (y2 = cs__d2(s + 2)) < 0 || s[4] != '-' || (M = cs__d2(s + 5)) < 0 ||
			    s[7] != '-' || (D = cs__d2(s + 8)) < 0 || (s[10] != 'T' && s[10] != ' '))
				return CS_ERR_PARSE;
			Y = y1 * 100 + y2;
			if (M < 1 || M > 12 || D < 1 || D > 31)
				return CS_ERR_PARSE;
			day = cs__days_from_civil(Y, M, D) * 86400;
			if (memo) {
				memcpy(memo->prefix, s, 11);
				memo->day_s = day;
				memo->valid = 1;
			}
		}
		/* "HH:MM" */
		if ((h = cs__d2(s + 11)) < 0 || s[13] != ':' || (m = cs__d2(s + 14)) < 0 || h > 23 || m > 59)
			return CS_ERR_PARSE;
		minute = day + h * 3600 + m * 60;
	}
	p = 16;
	if (p < len && s[p] == ':') {
		if (len - p < 3 || (sec = cs__d2(s + p + 1)) < 0)
			return CS_ERR_PARSE;
		p += 3;
		if (p < len && (s[p] == '.' || s[p] == ',')) {
			size_t nd;
			p++;
			if ((nd = cs_digits_count(s + p, len - p)) == 0)
				return CS_ERR_PARSE;
			ms = (s[p] - '0') * 100;
			if (nd > 1)
				ms += (s[p + 1] - '0') * 10;
			if (nd > 2)
				ms += s[p + 2] - '0';
			p += nd;
		}
	}
	if (p < len) {
		if (s[p] == 'Z' || s[p] == 'z') {
			p++;
		} else if (s[p] == '+' || s[p] == '-') {
			sign = s[p++] == '-' ? -1 : 1;
			if (len - p < 2 || (tzh = cs__d2(s + p)) < 0)
				return CS_ERR_PARSE;
			p += 2;
			if (p < len && s[p] == ':')
				p++;
			if (p < len) {
				if (len - p < 2 || (tzm = cs__d2(s + p)) < 0)
					return CS_ERR_PARSE;
				p += 2;
			}
		}
	}
	if (p != len || sec > 60 || tzh > 23 || tzm > 59)
		return CS_ERR_PARSE;
	*ms_out = (minute + sec - (int64_t)sign * (tzh * 3600 + tzm * 60)) * 1000 + ms;
	return CS_ERR_OK;
}

cs_err_t cs_time_parse_iso8601(const char *s, size_t len, int64_t *ms_out) {
	return cs_time_parse_iso8601_memo(NULL, s, len, ms_out);
}

void cs_time_format_iso8601(int64_t epoch_s, char *buf, size_t size) {
	time_t t = (time_t)epoch_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
