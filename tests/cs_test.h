/*
 * cs_test.h - the tiny test harness of cshield's numbered tests.
 *
 * Each tests/NNNN-name.c defines `int cs_test_NNNN(void)` returning 0 on
 * success, CS_TEST_SKIP when a required service is not configured, or 1 on
 * failure (after printing why). One runner, cs-tests, runs them by number.
 */
#ifndef CS_TEST_H
#define CS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#define CS_TEST_SKIP 77

#define CS_TEST_FAIL(...)                                                  \
	do {                                                               \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);       \
		fprintf(stderr, __VA_ARGS__);                              \
		fprintf(stderr, "\n");                                     \
		return 1;                                                  \
	} while (0)

#define CS_TEST_ASSERT(cond, ...)                                          \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                      \
			fprintf(stderr, "\n");                             \
			return 1;                                          \
		}                                                          \
	} while (0)

/* a and b are evaluated once (a may be a call with side effects, like waiting for a process) */
#define CS_TEST_EQ_INT(a, b)                                                                          \
	do {                                                                                          \
		long long cs__a = (long long)(a), cs__b = (long long)(b);                             \
		CS_TEST_ASSERT(cs__a == cs__b, "%s = %lld, expected %lld", #a, cs__a, cs__b);          \
	} while (0)

static inline int cs_test_streq(const char *a, const char *b) {
	return a && b && !strcmp(a, b);
}
static inline const char *cs_test_str(const char *a) {
	return a ? a : "(null)";
}
#define CS_TEST_EQ_STR(a, b)                                                                  \
	CS_TEST_ASSERT(cs_test_streq((a), (b)), "%s = \"%s\", expected \"%s\"", #a,       \
		       cs_test_str(a), cs_test_str(b))

#define CS_TEST_SAY(...)                                \
	do {                                            \
		fprintf(stderr, "  ");                  \
		fprintf(stderr, __VA_ARGS__);           \
		fprintf(stderr, "\n");                  \
	} while (0)

/* Paths given by CTest's environment. */
const char *cs_test_fixture(const char *name); /* $CS_FIXTURES/name, static buffer */
const char *cs_test_bindir(void);              /* $CS_BIN_DIR */
/** A fresh private temp directory for this test run. */
const char *cs_test_tmpdir(void);
/** Writes s to path; returns 0 or -1. */
int cs_test_write_file(const char *path, const char *s);
/** Sleeps ms milliseconds. */
void cs_test_sleep_ms(int ms);
/** Runs a shell command; its exit code (-1 if it did not exit), its output in out (NUL-terminated). */
int cs_test_run(const char *cmd, char *out, size_t size);

#endif /* CS_TEST_H */
