/*
 * cs_log.c - JSON-lines logging to stderr.
 * DESIGN: one line per call, written with a single fwrite under stdio's own
 * lock, so lines from several threads never interleave. Module and message
 * are escaped by cs_json_escape(): a line stays valid JSON whatever bytes it
 * quotes (invalid UTF-8 becomes U+FFFD). The level is an atomic
 * read on every call; it is set before workers start.
 */
#include <stdio.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

#include "cs_common.h"
#include "cs_json.h"

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

void cs_log(cs_log_level_t level, const char *mod, const char *fmt, ...) {
	char msg[2048], tbuf[32];
	char line[128 + CS_JSON_ESC_MAX * (sizeof(msg) + 64)];
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
	of += cs_json_escape(line + of, mod, strnlen(mod, 64));
	memcpy(line + of, "\",\"msg\":\"", 9);
	of += 9;
	of += cs_json_escape(line + of, msg, strlen(msg)); /* a message cut short is still valid: see cs_json.h */
	memcpy(line + of, "\"}\n", 3);
	of += 3;
	/* one write of the whole line; a closed pipe (EPIPE, SIGPIPE ignored) loses the line, not the process */
	fwrite(line, 1, of, stderr);
}
