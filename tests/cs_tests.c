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
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cs_test.h"
#include "cs_common.h"

#include "cs_tests_table.h" /* CS_TESTS(XX), generated from tests/tests.tsv */

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

static char cs__tmpdir[256]; /* this process's temp folder, once made */

const char *cs_test_tmpdir(void) {
	char *dir = cs__tmpdir;
	if (!dir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(dir, sizeof(cs__tmpdir), "%s/cs-test-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return dir;
}

int cs_test_run(const char *cmd, char *out, size_t size) {
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int st;
	if (!p)
		return -1;
	while (n + 1 < size && fgets(out + n, (int)(size - n), p))
		n += strlen(out + n);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int cs_test_write_file(const char *path, const char *s) {
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs(s, fp);
	return fclose(fp) ? -1 : 0;
}

static int cs__rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
	return remove(path);
}

/*
 * A test's temp folder is removed when it passes or skips; one that fails
 * keeps it (logs, configurations) and says where. CS_TEST_KEEP=1 keeps all.
 */
static void cs__tmpdir_done(int rc) {
	const char *keep = getenv("CS_TEST_KEEP");
	if (!cs__tmpdir[0])
		return;
	if (rc && rc != CS_TEST_SKIP) {
		fprintf(stderr, "    (its files are kept in %s)\n", cs__tmpdir);
		return;
	}
	if (keep && !strcmp(keep, "1"))
		return;
	if (nftw(cs__tmpdir, cs__rm, 16, FTW_DEPTH | FTW_PHYS))
		fprintf(stderr, "    (could not remove %s)\n", cs__tmpdir);
	cs__tmpdir[0] = '\0';
}

static int cs__run(const cs__test_t *t) {
	int rc;
	fprintf(stderr, "=== %s-%s: %s\n", t->num, t->name, t->desc);
	rc = t->fn();
	fprintf(stderr, "=== %s-%s: %s\n", t->num, t->name,
		rc == 0 ? "PASS" : rc == CS_TEST_SKIP ? "SKIP" : "FAIL");
	cs__tmpdir_done(rc);
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
