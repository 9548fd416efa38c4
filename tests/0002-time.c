/* 0002-time: ISO 8601 / RFC 3339 timestamps as SOC tools write them. */
#include "cs_test.h"
#include "cs_common.h"

int cs_test_0002(void) {
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"2026-11-29T03:14:20Z", 1795922060000LL},
		{"2024-12-18T19:36:48.669714-0500", 1734568608669LL}, /* Suricata, zeus sample */
		{"2018-07-05T15:01:09.820360-0400", 1530817269820LL},
		{"2026-11-29T04:14:20+01:00", 1795922060000LL},
		{"2026-11-29 03:14:20.5Z", 1795922060500LL},
		{"2024-02-29T12:00:00Z", 1709208000000LL}, /* leap day */
		{"2026-11-29T03:14", 1795922040000LL},
		/* fractions of 1 to 12 digits (read 8 at a time): the first three count */
		{"2026-11-29T03:14:20.12Z", 1795922060120LL},
		{"2026-11-29T03:14:20.123Z", 1795922060123LL},
		{"2026-11-29T03:14:20.1239Z", 1795922060123LL},
		{"2026-11-29T03:14:20.98765432Z", 1795922060987LL},
		{"2026-11-29T03:14:20.987654321Z", 1795922060987LL},
		{"2026-11-29T03:14:20.000000000001+00:00", 1795922060000LL},
		{"2026-11-29T03:14:20.0099999", 1795922060009LL},
	};
	static const char *bad[] = {"", "2026", "2026-13-01T00:00:00Z", "2026-11-29T03:14:20Q",
				    "2026-11-29T25:00:00Z", "2026-11-29T03:14:20.Z", "x026-11-29T03:14:20Z",
				    "2026-11-29T03:14:20Z trailing", "2026-11-29T03:14:2", "2026-11-29T03:14:20+0",
				    "2026-11-29T03:14:20+01:0", "2026-11-29T03:1", "2026-11-29T03:14:20.123+", "2026-11-29T03:14:-1",
				    /* a byte after the fraction's digits that is none, 8 at a time and after */
				    "2026-11-29T03:14:20.1234567\xc3Z", "2026-11-29T03:14:20.12345678:Z", "2026-11-29T03:14:20.12/Z",
				    "2026-11-29T03:14:20.123456789012345a"};
	char buf[32];

	for (size_t i = 0; i < CS_ARRAY_SIZE(ok); i++) {
		int64_t ms = -1;
		CS_TEST_ASSERT(cs_time_parse_iso8601(ok[i].s, strlen(ok[i].s), &ms) == CS_ERR_OK, "%s", ok[i].s);
		CS_TEST_ASSERT(ms == ok[i].ms, "%s -> %lld, expected %lld", ok[i].s, (long long)ms,
			       (long long)ok[i].ms);
	}
	for (size_t i = 0; i < CS_ARRAY_SIZE(bad); i++) {
		int64_t ms;
		CS_TEST_ASSERT(cs_time_parse_iso8601(bad[i], strlen(bad[i]), &ms) == CS_ERR_PARSE,
			       "\"%s\" accepted", bad[i]);
	}
	{
		/* with a memo of the last date: the same answers as without, whatever the order */
		cs_time_memo_t memo = {{0}, 0, 0};
		for (int round = 0; round < 3; round++) {
			for (size_t i = 0; i < CS_ARRAY_SIZE(ok); i++) {
				int64_t a = -1, b = -2;
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, ok[i].s, strlen(ok[i].s), &a), CS_ERR_OK);
				CS_TEST_EQ_INT(cs_time_parse_iso8601(ok[i].s, strlen(ok[i].s), &b), CS_ERR_OK);
				CS_TEST_ASSERT(a == b && a == ok[i].ms, "%s: memo %lld, %lld", ok[i].s, (long long)a, (long long)b);
				/* a bad tail behind a remembered date is still bad */
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, "2026-11-29T03:14:2", 18, &a), CS_ERR_PARSE);
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, "2026-11-29T03:14:20Q", 20, &a), CS_ERR_PARSE);
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, "2026-11-29T24:14:20Z", 20, &a), CS_ERR_PARSE);
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, "2026-11-29T03:60:20Z", 20, &a), CS_ERR_PARSE);
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, "2026-11-29T03-14:20Z", 20, &a), CS_ERR_PARSE);
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, "2026-11-29T0x:14:20Z", 20, &a), CS_ERR_PARSE);
				/* the same date, another hour and minute: read, not remembered */
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, "2026-11-29T23:59:59Z", 20, &a), CS_ERR_OK);
				CS_TEST_ASSERT(a == 1795996799000LL, "23:59:59 -> %lld", (long long)a);
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, "2026-11-29 00:00:00Z", 20, &a), CS_ERR_OK);
				CS_TEST_ASSERT(a == 1795910400000LL, "00:00:00 -> %lld", (long long)a);
			}
			for (size_t i = 0; i < CS_ARRAY_SIZE(bad); i++) {
				int64_t a;
				CS_TEST_EQ_INT(cs_time_parse_iso8601_memo(&memo, bad[i], strlen(bad[i]), &a), CS_ERR_PARSE);
			}
		}
	}
	cs_time_format_iso8601(1795922060, buf, sizeof(buf));
	CS_TEST_EQ_STR(buf, "2026-11-29T03:14:20Z");
	CS_TEST_EQ_STR(cs_err2name(CS_ERR_STALE), "CS_ERR_STALE");
	CS_TEST_ASSERT(strlen(cs_err2str(CS_ERR_NOMEM)) > 0, "no string");
	/* the digit helpers the time and number readers use: cs_digits_count (8 bytes at a time, the
	 * last 1-7 from the 8 that end there) against a byte loop, cs_digits8 against arithmetic */
	{
		uint64_t r = 0x9E3779B97F4A7C15ULL;
		char d[40];
		for (int t = 0; t < 200000; t++) {
			size_t n, want = 0, at;
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			n = (size_t)(r % 25);
			for (size_t i = 0; i < n; i++)
				d[i] = (char)('0' + (r >> (i % 40)) % 10);
			at = (size_t)(r >> 40) % 32; /* a non-digit at a random place, or none */
			if (at < n)
				d[at] = "/:a\x80 .\x00-"[(r >> 20) % 8];
			while (want < n && d[want] >= '0' && d[want] <= '9')
				want++;
			CS_TEST_ASSERT(cs_digits_count(d, n) == want, "cs_digits_count(%.*s, %zu) = %zu, expected %zu",
				       (int)n, d, n, cs_digits_count(d, n), want);
			if (n >= 8 && want >= 8) {
				uint64_t v = 0;
				for (int i = 0; i < 8; i++)
					v = v * 10 + (uint64_t)(d[i] - '0');
				CS_TEST_ASSERT(cs_digits8(d) == v, "cs_digits8(%.8s)", d);
			}
		}
	}
	return 0;
}
