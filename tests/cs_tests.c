/*
 * cs_tests.c - the one runner of cshield's numbered tests.
 * Usage: cs-tests            run every test
 *        cs-tests NNNN...    run these tests (as CTest does, one a process)
 *        cs-tests --list     list them
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

#include "cs_test.h"
#include "cs_common.h"

#define CS_TESTS(XX)                                                     \
	XX(0001, "conf", "property tables, files, pass-through")       \
	XX(0002, "time", "ISO 8601 parsing")                            \
	XX(0003, "norm", "host and URL normalization")                  \
	XX(0004, "corr", "indicator list loading and matching")         \
	XX(0005, "decode", "event decoding on real samples")            \
	XX(0006, "agg", "pre-aggregation table")                        \
	XX(0007, "cli", "command-line behaviour of the programs")       \
	XX(0008, "decode-diff", "streaming decoder vs jansson reference on real samples") \
	XX(0009, "feeds", "real indicator feeds in every format; real events x real indicators") \
	XX(0010, "ind-meta", "indicator metadata per format (source, TLP, confidence, tags, validity, scope) and its match-time semantics") \
	XX(0011, "hot-swap", "a live indicator set replaced 60 times under 4 matching threads (TSan build too)") \
	XX(0012, "bench-gen", "the benchmark generator: hits where it says, none where it does not, every format, deterministic") \
	XX(0013, "overlay", "indicator changes layered over a loaded set: revoke, redefine, add, later wins, rejections") \
	XX(0014, "decode-shapes", "events read along learned shapes decode exactly as the full scan decodes them") \
	XX(0015, "json", "the one JSON writer: escaping (controls, ill-formed UTF-8 as U+FFFD) read back by jansson, commas, log lines") \
	XX(0016, "flush-enc", "the flush call's KEYS and ARGV read back by the documented layout; the key schema's names") \
	XX(0017, "hostile-feeds", "CSV as RFC 4180 reads it, MISP tags that almost name a label, NUL bytes, too-broad patterns, mapped IPv6 prefixes") \
	XX(0100, "e2e", "Kafka -> cshield-ingest -> Redis, exact counts") \
	XX(0101, "restart", "kill -9 and restart: nothing lost, nothing twice") \
	XX(0102, "churn", "members join and leave while consuming: exact counts") \
	XX(0103, "redis-freeze", "redis-server frozen (SIGSTOP) mid-stream: exact counts after the thaw") \
	XX(0104, "redis-rebalance", "the group rebalances while Redis is frozen (eager and cooperative): exact counts after the thaw") \
	XX(0105, "reload", "indicator files change under a running ingest (file change, SIGHUP, broken file): exact counts per version") \
	XX(0106, "participants", "participant registry: attribution, TLP per event and hit, dimension counts, report per audience, reload") \
	XX(0107, "redis-restart", "redis-server killed twice mid-stream, back from its AOF: exact counts and alerts") \
	XX(0108, "broker-restart", "the Kafka broker killed mid-stream and restarted: exact counts and alerts") \
	XX(0109, "changes", "indicator changes from a Kafka topic layered over the files' set, live and after a restart: exact counts") \
	XX(0110, "mock-faults", "Fetch and OffsetCommit errors, dropped connections, broker down (librdkafka mock cluster): exact counts") \
	XX(0111, "late", "events older than the grace period counted in their arrival window, as late, alike after a replay") \
	XX(0112, "dead-letters", "every rejection reason interleaved with good events: each dead-lettered once with its reason and source, the good counted exactly") \
	XX(0113, "alerts-blocked", "the alerts topic refuses every alert: no hit recorded, offsets held; once it accepts, all counted once") \
	XX(0114, "bytes-cap", "flush.max.bytes alone drives the flushes: nearly all recorded long before the interval, exact counts") \
	XX(0115, "hostile-peers", "idle, garbage, oversized, reset and slow peers on the metrics port, the log pipe closed: /health within 1 s, exact counts, exit 0") \
	XX(0116, "hostile-redis", "wrong types, non-integer and overflowing counts, malformed and beyond-the-log offsets in Redis: refused with the key named, nothing written, exact once mended") \
	XX(0117, "report-hostile", "cshield-report: plain dates, --from after --to, and counts, fields and types in Redis it did not write: errors naming the key")

#define CS__DECL(num, name, desc) int cs_test_##num(void);
CS_TESTS(CS__DECL)
#undef CS__DECL

typedef struct {
	const char *num, *name, *desc;
	int (*fn)(void);
} cs__test_t;

static const cs__test_t cs__tests[] = {
#define CS__ROW(num, name, desc) {#num, name, desc, cs_test_##num},
	CS_TESTS(CS__ROW)
#undef CS__ROW
};

const char *cs_test_fixture(const char *name) {
	static char buf[4096];
	const char *dir = getenv("CS_FIXTURES");
	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : "tests/fixtures", name);
	return buf;
}

const char *cs_test_bindir(void) {
	const char *d = getenv("CS_BIN_DIR");
	return d ? d : "build";
}

void cs_test_sleep_ms(int ms) {
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

const char *cs_test_tmpdir(void) {
	static char dir[256];
	if (!dir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/cs-test-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return dir;
}

int cs_test_write_file(const char *path, const char *s) {
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs(s, fp);
	return fclose(fp) ? -1 : 0;
}

static int cs__run(const cs__test_t *t) {
	int rc;
	fprintf(stderr, "=== %s-%s: %s\n", t->num, t->name, t->desc);
	rc = t->fn();
	fprintf(stderr, "=== %s-%s: %s\n", t->num, t->name,
		rc == 0 ? "PASS" : rc == CS_TEST_SKIP ? "SKIP" : "FAIL");
	return rc;
}

int main(int argc, char **argv) {
	int failed = 0, passed = 0, skipped = 0;

	cs_proc_init("cs-tests");

	if (argc > 1 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < sizeof(cs__tests) / sizeof(*cs__tests); i++)
			printf("%s-%s\t%s\n", cs__tests[i].num, cs__tests[i].name, cs__tests[i].desc);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cs__tests) / sizeof(*cs__tests); i++) {
		int selected = argc == 1, rc;
		for (int a = 1; a < argc; a++)
			if (!strncmp(argv[a], cs__tests[i].num, 4))
				selected = 1;
		if (!selected)
			continue;
		rc = cs__run(&cs__tests[i]);
		if (rc == 0)
			passed++;
		else if (rc == CS_TEST_SKIP)
			skipped++;
		else
			failed++;
	}
	for (int a = 1; a < argc; a++) {
		int known = 0;
		for (size_t i = 0; i < sizeof(cs__tests) / sizeof(*cs__tests); i++)
			known |= !strncmp(argv[a], cs__tests[i].num, 4);
		if (!known) {
			fprintf(stderr, "cs-tests: no test %s (cs-tests --list)\n", argv[a]);
			failed++;
		}
	}
	if (argc == 2 && passed + failed + skipped == 1)
		return failed ? 1 : skipped ? CS_TEST_SKIP : 0;
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
