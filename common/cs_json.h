/*
 * cs_json.h - the one JSON writer of cshield: alerts, health, the log lines
 * and every program's JSON output go through it.
 *
 * Strings are escaped once, here: '"' and '\\', control characters (\n, \t,
 * \u00XX...), and every byte that is not part of well-formed UTF-8 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF) becomes U+FFFD,
 * so what is written is valid JSON whatever bytes an event or a feed carried.
 * The writer keeps the commas: callers say what they write, not how it is
 * separated. Tested by tests/0015-json.c.
 */
#ifndef CS_JSON_H
#define CS_JSON_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

/** The most bytes cs_json_escape() writes per input byte. */
#define CS_JSON_ESC_MAX 6

/**
 * Escapes s[0..len) as the body of a JSON string (no quotes) into dst, which
 * must hold CS_JSON_ESC_MAX * len bytes. Returns the bytes written (no NUL).
 * @locality any thread, no allocation
 */
size_t cs_json_escape(char *dst, const char *s, size_t len);

/** Writes s[0..len) as a JSON string, quotes included. */
void cs_json_write_str(FILE *fp, const char *s, size_t len);

#define CS_JW_DEPTH 32

/** A writer onto a stdio stream (often open_memstream()). Owned by one thread. */
typedef struct cs_jw_s {
	FILE *fp;
	int depth;
	unsigned char first[CS_JW_DEPTH]; /* nothing written yet at this depth */
	int after_key;                    /* the next value follows a key: no comma */
} cs_jw_t;

void cs_jw_init(cs_jw_t *jw, FILE *fp);
void cs_jw_obj_begin(cs_jw_t *jw);
void cs_jw_obj_end(cs_jw_t *jw);
void cs_jw_arr_begin(cs_jw_t *jw);
void cs_jw_arr_end(cs_jw_t *jw);
/** An object's key; the next call writes its value. */
void cs_jw_key(cs_jw_t *jw, const char *key);
void cs_jw_str(cs_jw_t *jw, const char *s);
void cs_jw_strn(cs_jw_t *jw, const char *s, size_t len);
void cs_jw_int(cs_jw_t *jw, int64_t v);
void cs_jw_uint(cs_jw_t *jw, uint64_t v);
/** A finite double ("%.*g"); NaN and infinities are written as null. */
void cs_jw_double(cs_jw_t *jw, double v, int digits);
/** A finite double with a fixed number of decimals ("%.*f"); NaN and infinities as null. */
void cs_jw_fixed(cs_jw_t *jw, double v, int decimals);
void cs_jw_bool(cs_jw_t *jw, int v);
void cs_jw_null(cs_jw_t *jw);

/* key and value in one call */
void cs_jw_kstr(cs_jw_t *jw, const char *key, const char *s);
void cs_jw_kstrn(cs_jw_t *jw, const char *key, const char *s, size_t len);
void cs_jw_kint(cs_jw_t *jw, const char *key, int64_t v);
void cs_jw_kuint(cs_jw_t *jw, const char *key, uint64_t v);
void cs_jw_kbool(cs_jw_t *jw, const char *key, int v);
void cs_jw_kfixed(cs_jw_t *jw, const char *key, double v, int decimals);

#endif /* CS_JSON_H */
