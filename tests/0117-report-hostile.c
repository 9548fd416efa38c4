/*
 * 0117-report-hostile: cshield-report does not trust Redis blindly. Against
 * a real redis-server: a period given as plain dates (a --to date takes its
 * whole day in) and a --from after --to (refused, exit 2); then what Redis
 * may hold that ingest never wrote: a count that is not one ("12abc", beyond
 * 64 bits), counts whose sum leaves 64 bits, a field that is not
 * "<tlp>|<indicator>", a window hash of the wrong type. Each is an error
 * that names the key (exit 1), never a silent drop or a negative total.
 */
#include <time.h>
#include <sys/wait.h>

#include "cs_test_svc.h"
#include "cs_keys.h"
#include "cs_common.h"

static int cmd(redisContext *rc, const char *fmt, const char *a, const char *b, const char *c) {
	redisReply *r = redisCommand(rc, fmt, a, b, c);
	int ok = r && r->type != REDIS_REPLY_ERROR;
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

int cs_test_0117(void) {
	char prefix[64], wins[256], wtlp[256], stats[256], day[32], w[32], base[1024], c[2048];
	static char out[16384];
	int64_t start;
	redisContext *rc;
	int rc_check;

	if ((rc_check = cs_svc_check()))
		return rc_check;
	CS_TEST_ASSERT((rc = cs_svc_redis()), "redis");
	snprintf(prefix, sizeof(prefix), "rh%d", (int)getpid());
	start = (int64_t)time(NULL) / 86400 * 86400 - 2 * 86400 + 3600; /* 01:00 two days ago */
	snprintf(w, sizeof(w), "%lld", (long long)start);
	cs_time_format_iso8601(start, day, sizeof(day));
	day[10] = '\0';
	cs_keys_wins(wins, sizeof(wins), prefix, 60);
	cs_keys_wtlp(wtlp, sizeof(wtlp), prefix, 60, start);
	cs_keys_stats(stats, sizeof(stats), prefix);
	CS_TEST_EQ_INT(cmd(rc, "ZADD %s %s %s", wins, w, w), 0);
	CS_TEST_EQ_INT(cmd(rc, "HSET %s %s %s", wtlp, "amber|evil.example", "5"), 0);
	CS_TEST_EQ_INT(cmd(rc, "HSET %s %s %s", wtlp, "red|evil.example", "3"), 0);
	CS_TEST_EQ_INT(cmd(rc, "HSET %s %s %s", wtlp, "clear|a.example", "2"), 0);
	CS_TEST_EQ_INT(cmd(rc, "HSET %s %s %s", stats, "events", "10"), 0);
	snprintf(base, sizeof(base), "%s/report/cshield-report --redis %s --prefix %s", cs_test_bindir(),
		 getenv("CS_REDIS_ADDR"), prefix);

	/* plain dates: the day of the window, whole */
	snprintf(c, sizeof(c), "%s --tlp amber --from %s --to %s --json 2>&1", base, day, day);
	CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 0);
	CS_TEST_ASSERT(strstr(out, "\"indicator\":\"evil.example\",\"tlp\":\"amber\",\"hits\":5") &&
			       strstr(out, "\"indicator\":\"a.example\",\"tlp\":\"clear\",\"hits\":2"),
		       "%s", out);
	/* the day before holds nothing */
	{
		char before[32];
		cs_time_format_iso8601(start - 86400, before, sizeof(before));
		before[10] = '\0';
		snprintf(c, sizeof(c), "%s --tlp red --from %s --to %s --json 2>&1", base, before, before);
		CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 0);
		CS_TEST_EQ_STR(out, "");
	}
	snprintf(c, sizeof(c), "%s --from %sT12:00:00Z --to %s 2>&1", base, day, day);
	CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 0); /* within the day: fine */
	snprintf(c, sizeof(c), "%s --from 2026-12-05 --to 2026-12-04 2>&1", base);
	CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 2);
	CS_TEST_ASSERT(strstr(out, "--from is after --to"), "%s", out);
	snprintf(c, sizeof(c), "%s --from 2026-13-45 2>&1", base);
	CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 2);

	/* hostile values: each an error naming the key, exit 1 */
	{
		static const struct {
			const char *field, *value, *says;
		} bad[] = {{"clear|x.example", "12abc", "not a count"},
			   {"clear|x.example", "99999999999999999999", "not a count"},
			   {"clear|x.example", "-4", "not a count"},
			   {"rouge|x.example", "1", "is not <tlp>|<indicator>"},
			   {"x.example", "1", "is not <tlp>|<indicator>"}};
		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			CS_TEST_EQ_INT(cmd(rc, "HSET %s %s %s", wtlp, bad[i].field, bad[i].value), 0);
			snprintf(c, sizeof(c), "%s --tlp red 2>&1", base);
			CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 1);
			CS_TEST_ASSERT(strstr(out, wtlp) && strstr(out, bad[i].says), "%s=%s: %s", bad[i].field, bad[i].value,
				       out);
			CS_TEST_EQ_INT(cmd(rc, "HDEL %s %s%s", wtlp, bad[i].field, ""), 0);
		}
	}
	/* counts that each fit and add up beyond 64 bits: an error, not a negative total */
	CS_TEST_EQ_INT(cmd(rc, "HSET %s %s %s", wtlp, "green|big.example", "9223372036854775000"), 0);
	CS_TEST_EQ_INT(cmd(rc, "HSET %s %s %s", wtlp, "amber|big.example", "9223372036854775000"), 0);
	snprintf(c, sizeof(c), "%s --tlp red 2>&1", base);
	CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 1);
	CS_TEST_ASSERT(strstr(out, "big.example") && strstr(out, "beyond 64 bits"), "%s", out);
	CS_TEST_EQ_INT(cmd(rc, "HDEL %s %s %s", wtlp, "green|big.example", "amber|big.example"), 0);
	/* a window hash of the wrong type */
	CS_TEST_EQ_INT(cmd(rc, "DEL %s%s%s", wtlp, "", ""), 0);
	CS_TEST_EQ_INT(cmd(rc, "SET %s %s%s", wtlp, "not a hash", ""), 0);
	CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 1);
	CS_TEST_ASSERT(strstr(out, wtlp) && strstr(out, "WRONGTYPE"), "%s", out);
	/* a stats field that is not a count */
	CS_TEST_EQ_INT(cmd(rc, "DEL %s%s%s", wtlp, "", ""), 0);
	CS_TEST_EQ_INT(cmd(rc, "HSET %s %s %s", stats, "hits", "lots"), 0);
	CS_TEST_EQ_INT(cs_test_run(c, out, sizeof(out)), 1);
	CS_TEST_ASSERT(strstr(out, stats) && strstr(out, "not a count"), "%s", out);
	redisFree(rc);
	return 0;
}
