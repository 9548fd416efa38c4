/*
 * cs_ingest_flush.h - one flush as the call of the flush script
 * (cs_ingest_flush.lua): the encoder of its KEYS and ARGV layout.
 *
 * The encoder is the only place where the batch's aggregates become Redis
 * key names and fields (through common/cs_keys.h); the script only checks
 * and applies what it is given. Pure: no Redis, no I/O, so it is tested
 * without a server (tests/0016-flush-enc.c).
 */
#ifndef CS_INGEST_FLUSH_H
#define CS_INGEST_FLUSH_H

#include <stddef.h>

#include "cs_ingest_int.h"

/* ARGV[1] of every call; the script refuses any other */
#define CS_INGEST_FLUSH_TAG "cshield-flush/4"

/* the sections of ARGV, in order, and the width of their records */
#define CS_INGEST_FLUSH_SECTIONS(XX) \
	XX(HINCRBY, 3)               \
	XX(ZINCRBY, 3)               \
	XX(ZADD, 3)                  \
	XX(PFADD, 2)                 \
	XX(HMIN, 3)                  \
	XX(HMAX, 3)                  \
	XX(HSET, 3)                  \
	XX(XADD, 6)                  \
	XX(ESCCONF, 7)               \
	XX(ESC, 6)                   \
	XX(OFFSETS, 3)

typedef enum cs_ingest_flush_sec_e {
#define CS__FSEC(name, width) CS_INGEST_FLUSH_##name,
	CS_INGEST_FLUSH_SECTIONS(CS__FSEC)
#undef CS__FSEC
	CS_INGEST_FLUSH__SEC_CNT
} cs_ingest_flush_sec_t;

/** The record width of a section. */
int cs_ingest_flush_sec_width(cs_ingest_flush_sec_t sec);

typedef struct cs_ingest_flush_s cs_ingest_flush_t;

/**
 * Encodes one flush: every count of agg (hits of indicators of db), the
 * alerts, the metadata of the indicators counted, and the offsets of the
 * partitions that moved (parts[i].start -> parts[i].next).
 * @returns the call (cs_ingest_flush_destroy() it), or NULL with errstr set
 *          (out of memory, a key longer than CS_KEYS_MAX).
 * @locality the worker's thread
 */
cs_ingest_flush_t *cs_ingest_flush_encode(const cs_ingest_conf_t *conf, const cs_ingest_agg_t *agg,
					  const cs_corr_db_t *db, const cs_ingest_part_t *parts, size_t cnt,
					  char *errstr, size_t errstr_size);

/**
 * The whole command: "EVALSHA", sha, numkeys, KEYS..., ARGV..., assembled on
 * the first call (later calls return the same arrays: the script's SHA1 does
 * not change). They belong to f (valid until it is destroyed); sha is copied.
 * Returns argc, or -1 on out of memory.
 */
int cs_ingest_flush_argv(cs_ingest_flush_t *f, const char *sha, const char ***argv, const size_t **argvlen);

/** How many KEYS (the key table) and ARGV the script gets (the command less its EVALSHA head). */
size_t cs_ingest_flush_nkeys(const cs_ingest_flush_t *f);
size_t cs_ingest_flush_nargs(const cs_ingest_flush_t *f);
/** Records in a section. */
size_t cs_ingest_flush_records(const cs_ingest_flush_t *f, cs_ingest_flush_sec_t sec);

void cs_ingest_flush_destroy(cs_ingest_flush_t *f);

#endif /* CS_INGEST_FLUSH_H */
