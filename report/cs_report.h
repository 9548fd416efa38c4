/*
 * cs_report.h - reading the hit aggregates back from Redis.
 *
 * Per-window hit counts per indicator for a time range, as a table or JSON
 * lines, filtered by Traffic Light Protocol for the audience: each window's
 * hits are kept per TLP (P:wtlp, common/cs_keys.h: the stricter of the
 * indicator's and the reporting participant's label), and a row sums only the
 * parts at or below the audience's label; a row none of whose parts it may
 * see is withheld (and counted). What Redis holds is read strictly: an error
 * names the key. The situation reports (HTML, Markdown) build on this.
 */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdio.h>
#include <stdint.h>

#include "cs_common.h"
#include "cs_obs.h"

typedef struct cs_report_row_s {
	int64_t window; /* window start, epoch seconds */
	char *indicator;
	int64_t hits;
	cs_tlp_t tlp; /* the indicator's TLP */
} cs_report_row_t;

typedef struct cs_report_s cs_report_t;

typedef struct cs_report_opts_s {
	const char *redis_host;
	int redis_port;
	const char *key_prefix; /* "cs" */
	int64_t window_s;       /* 60 */
	int64_t from, to;       /* epoch seconds, inclusive window starts */
	cs_tlp_t audience;      /* rows above it are withheld (counted in cs_report_withheld()) */
	const char *redis_user, *redis_password; /* AUTH when a password is set (a read-only ACL user will do) */
} cs_report_opts_t;

/**
 * The primary Redis Sentinels name for master: the first of sentinels
 * ("host:port,host:port...") that answers SENTINEL get-master-addr-by-name.
 * For the readers (cshield-report, cshield-alerts), once at start.
 * @returns 0 with host and *port set, or -1 with errstr set.
 */
int cs_report_sentinel_primary(const char *sentinels, const char *master, char *host, size_t host_size, int *port,
			       char *errstr, size_t errstr_size);

/**
 * Where a reader finds Redis: addr "HOST:PORT" (NULL: host and *port left as
 * they are), or, with sentinels and master (both or neither), the primary the
 * Sentinels name (cs_report_sentinel_primary()). For the readers' command lines.
 * @returns 0 with host and *port set; 2 with errstr set for a usage error (a
 *          malformed address, one of the pair alone); 1 when no Sentinel answers.
 */
int cs_report_redis_target(const char *addr, const char *sentinels, const char *master, char *host,
			   size_t host_size, int *port, char *errstr, size_t errstr_size);

/** AUTH [user] password on rc when a password is set. 0, or -1 with errstr set (naming the user, never the secret). */
int cs_report_auth(void *rc, const char *user, const char *password, char *errstr, size_t errstr_size);

/**
 * Reads every (window, indicator, hits) in [from, to], ordered by window,
 * then hits (descending), then indicator.
 * @returns NULL with errstr set on a Redis error.
 */
cs_report_t *cs_report_fetch(const cs_report_opts_t *opts, char *errstr, size_t errstr_size);
size_t cs_report_row_count(const cs_report_t *rep);
const cs_report_row_t *cs_report_row(const cs_report_t *rep, size_t i);
/** Totals recorded by ingest: events seen and hits counted (all time). */
int64_t cs_report_total(const cs_report_t *rep, const char *field);
/** Rows and hits withheld from the audience (marked above its TLP, or unmarked). */
void cs_report_withheld(const cs_report_t *rep, size_t *rows, int64_t *hits);
void cs_report_print_table(const cs_report_t *rep, FILE *fp);
void cs_report_print_jsonl(const cs_report_t *rep, FILE *fp);
void cs_report_destroy(cs_report_t *rep);

#endif /* CS_REPORT_H */
