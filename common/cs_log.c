/*
 * cs_log.c - JSON-lines logging to stderr.
 * DESIGN: one line per call, written with a single fputs under stdio's own
 * lock, so lines from several threads never interleave. The level is an atomic
 * read on every call; it is set before workers start.
 */
#include <stdio.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

#include "cs_common.h"

static atomic_int cs__log_level = CS_LOG_INFO;
static const char *cs__log_prog = "cshield";

static const char *cs__level_names[] = {"error", "warn", "info", "debug"};

void cs_log_set_level(cs_log_level_t level) {
	atomic_store(&cs__log_level, (int)level);
}

void cs_log_set_program(const char *prog) {
	cs__log_prog = prog;
}

int cs_log_level_parse(const char *s) {
	for (size_t i = 0; i < CS_ARRAY_SIZE(cs__level_names); i++)
		if (!strcmp(s, cs__level_names[i]))
			return (int)i;
	return -1;
}

/* Appends s to buf as a JSON string body (no quotes). */
static size_t cs__json_esc(char *buf, size_t of, size_t size, const char *s) {
	for (; *s && of + 7 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[of++] = '\\';
			buf[of++] = (char)c;
		} else if (c < 0x20) {
			of += (size_t)snprintf(buf + of, size - of, "\\u%04x", c);
		} else {
			buf[of++] = (char)c;
		}
	}
	return of;
}

void cs_log(cs_log_level_t level, const char *mod, const char *fmt, ...) {
	char msg[2048], line[4608], tbuf[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t of;

	if ((int)level > atomic_load(&cs__log_level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	of = (size_t)snprintf(line, sizeof(line),
			      "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"prog\":\"%s\",\"mod\":\"",
			      tbuf, ts.tv_nsec / 1000000L, cs__level_names[level], cs__log_prog);
	of = cs__json_esc(line, of, sizeof(line), mod);
	of += (size_t)snprintf(line + of, sizeof(line) - of, "\",\"msg\":\"");
	of = cs__json_esc(line, of, sizeof(line), msg);
	snprintf(line + of, sizeof(line) - of, "\"}\n");
	fputs(line, stderr);
}
