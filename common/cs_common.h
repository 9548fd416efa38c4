/*
 * cs_common.h - cshield's ground floor: error codes, allocation, logging.
 *
 * Depends on nothing of ours. Every other library of cshield includes it.
 */
#ifndef CS_COMMON_H
#define CS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>

#include "cs_version.h"

/* The one error table: 0 = OK, negative = error (libuv style). */
#define CS_ERR_MAP(XX)                                                     \
	XX(0, OK, "success")                                               \
	XX(-1, NOMEM, "out of memory")                                     \
	XX(-2, INVAL, "invalid argument")                                  \
	XX(-3, IO, "input/output error")                                   \
	XX(-4, CONF_UNKNOWN, "unknown configuration property")             \
	XX(-5, CONF_VALUE, "invalid configuration value")                  \
	XX(-6, PARSE, "malformed input")                                   \
	XX(-7, KAFKA, "Kafka client error")                                \
	XX(-8, REDIS, "Redis error")                                       \
	XX(-9, HS, "Hyperscan error")                                      \
	XX(-10, STALE, "stale offsets: partition state moved on elsewhere") \
	XX(-11, TOO_LARGE, "input exceeds a configured limit")             \
	XX(-12, NOT_FOUND, "not found")                                    \
	XX(-13, REFUSED, "refused: the stored state is not what cshield wrote")

typedef enum cs_err_e {
#define CS__ERR_ENUM(code, name, str) CS_ERR_##name = code,
	CS_ERR_MAP(CS__ERR_ENUM)
#undef CS__ERR_ENUM
} cs_err_t;

/** Human readable string for an error code. Never NULL. */
const char *cs_err2str(cs_err_t err);
/** Symbolic name ("CS_ERR_NOMEM") for an error code. Never NULL. */
const char *cs_err2name(cs_err_t err);

/** printf into errstr, always NUL-terminated, NULL/0 tolerated. */
void cs_errstr_set(char *errstr, size_t errstr_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- memory: every allocation of cshield goes through these ---- */
void *cs_malloc(size_t size);
void *cs_calloc(size_t nmemb, size_t size); /* checks nmemb*size overflow */
void *cs_realloc(void *ptr, size_t size);
void *cs_reallocarray(void *ptr, size_t nmemb, size_t size);
char *cs_strdup(const char *s);
char *cs_strndup(const char *s, size_t n);
void cs_free(void *ptr);
/**
 * Makes room for at least `want` elements of elem_size in the array *pptr of
 * capacity *cap (doubling, from 16). Returns 0, or -1 on out of memory (the
 * array is left as it was).
 */
int cs_array_reserve(void *pptr, size_t *cap, size_t want, size_t elem_size);

/* ---- logging: JSON lines on stderr ---- */
typedef enum cs_log_level_e {
	CS_LOG_ERROR = 0,
	CS_LOG_WARN = 1,
	CS_LOG_INFO = 2,
	CS_LOG_DEBUG = 3,
} cs_log_level_t;

/** Sets the process-wide log level. @locality any thread, before workers start. */
void cs_log_set_level(cs_log_level_t level);
/** Parses "error|warn|info|debug". Returns -1 when unknown. */
int cs_log_level_parse(const char *s);
/** Sets the program name printed in every log line (borrowed, must outlive logging). */
void cs_log_set_program(const char *prog);
/**
 * What every program calls first: ignores SIGPIPE process-wide (every writer
 * checks its writes: a closed socket or pipe is an error, never the end of the
 * process) and names the program in the log. @locality main thread, first
 */
void cs_proc_init(const char *prog);
/**
 * What a program that wrote to stdout exits with: 0, or 1 when a write failed
 * (said on stderr, unless the reader went away: EPIPE).
 */
int cs_proc_stdout_status(const char *prog);
/**
 * A secret (a password) from the first line of file path into buf, its line end removed.
 * @returns 0, or -1 with errstr set (naming the file, never the contents).
 */
int cs_secret_read(const char *path, char *buf, size_t size, char *errstr, size_t errstr_size);
/** Logs one JSON line: {"ts":..,"level":..,"prog":..,"mod":..,"msg":..}. @locality any thread */
void cs_log(cs_log_level_t level, const char *mod, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CS_LOG_E(mod, ...) cs_log(CS_LOG_ERROR, mod, __VA_ARGS__)
#define CS_LOG_W(mod, ...) cs_log(CS_LOG_WARN, mod, __VA_ARGS__)
#define CS_LOG_I(mod, ...) cs_log(CS_LOG_INFO, mod, __VA_ARGS__)
#define CS_LOG_D(mod, ...) cs_log(CS_LOG_DEBUG, mod, __VA_ARGS__)

/* ---- time ---- */
/** Monotonic clock in milliseconds. */
int64_t cs_clock_ms(void);
/** Wall clock, milliseconds since the epoch. */
int64_t cs_wall_ms(void);
/**
 * Parses an RFC 3339 / ISO 8601 timestamp ("2024-12-18T19:36:48.669714-0500",
 * "2026-11-29T03:14:20Z", "...+01:00") into milliseconds since the epoch.
 * Returns CS_ERR_OK or CS_ERR_PARSE.
 */
cs_err_t cs_time_parse_iso8601(const char *s, size_t len, int64_t *ms_out);

/** The last date cs_time_parse_iso8601_memo() read: owned by one caller (thread). Zero it to start. */
typedef struct cs_time_memo_s {
	char prefix[11]; /* "YYYY-MM-DDT" as written (or ' ' for 'T') */
	int64_t day_s;   /* its midnight, epoch seconds */
	int valid;
} cs_time_memo_t;

/** cs_time_parse_iso8601(), reusing the date of the last timestamp when it is written the same. */
cs_err_t cs_time_parse_iso8601_memo(cs_time_memo_t *memo, const char *s, size_t len, int64_t *ms_out);
/** Formats epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void cs_time_format_iso8601(int64_t epoch_s, char *buf, size_t size);

#define CS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/** How many decimal digits s[0..n) starts with; 8 bytes at a time. */
static inline size_t cs_digits_count(const char *s, size_t n) {
	size_t i = 0;
	while (n - i >= 8) {
		uint64_t x, nd;
		memcpy(&x, s + i, 8);
		/* a byte's top bit set: below '0' (x - '0' wrapped) or above '9' (x + 0x46 reached 0x80);
		 * borrows and carries only reach later bytes, so the first flagged byte is the first non-digit */
		nd = ((x - 0x3030303030303030ULL) | (x + 0x4646464646464646ULL)) & 0x8080808080808080ULL;
		if (nd)
			return i + (size_t)__builtin_ctzll(nd) / 8;
		i += 8;
	}
	if (i < n && n >= 8) {
		/* the last n - i bytes: the 8 that end there, the first of them digits already */
		uint64_t x, nd;
		memcpy(&x, s + n - 8, 8);
		nd = ((x - 0x3030303030303030ULL) | (x + 0x4646464646464646ULL)) & 0x8080808080808080ULL;
		return nd ? n - 8 + (size_t)__builtin_ctzll(nd) / 8 : n;
	}
	while (i < n && (unsigned)(unsigned char)s[i] - '0' <= 9)
		i++;
	return i;
}

/** The value of the 8 decimal digits in v, loaded from memory (little-endian), in a few multiplies. */
static inline uint64_t cs_digits8w(uint64_t v) {
	v -= 0x3030303030303030ULL;
	v = v * 10 + (v >> 8); /* each byte pair: its two digits' value in the low byte */
	return ((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)) +
		((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32))) >> 32;
}

/** The value of the 8 decimal digits at s (all digits: see cs_digits_count()). */
static inline uint64_t cs_digits8(const char *s) {
	uint64_t v;
	memcpy(&v, s, 8);
	return cs_digits8w(v);
}

#endif /* CS_COMMON_H */
