/*
 * cs_report_sit.h - situation reports: what happened in a period, as each
 * audience may see it.
 *
 * Two steps, kept apart so that the second is tested without Redis:
 *
 * 1. The situation (cs_report_sit_t): every roll-up count of the period and of
 *    the period of the same length before it (P:roll:T, common/cs_keys.h), the
 *    participants (P:part) and the indicators hit (P:ind), read as they are,
 *    each count with its TLP. cs_report_sit_fetch() reads them from Redis;
 *    cs_report_sit_new() and cs_report_sit_add*() build one by hand (tests,
 *    bench).
 *
 * 2. An edition (cs_report_ed_t) for one audience: every figure computed only
 *    from the counts that audience may see (below), each figure labelled with
 *    the strictest TLP of those counts; rendered as JSON, Markdown, HTML or a
 *    STIX 2.1 bundle.
 *
 * Who may see a count (TLP 2.0; unmarked data is AMBER):
 *  - CLEAR, GREEN and AMBER editions: the counts marked at or below the edition.
 *  - AMBER+STRICT and RED editions are for one organization (opts.org): the
 *    counts marked AMBER or below, and the stricter ones that organization may
 *    see: all of them when it is the hub (opts.hub: the organization that
 *    received the data), else only its own (the count's participant is org
 *    and, for hits, the indicator itself is marked AMBER or below: what makes
 *    the count strict is the organization's own label).
 *  - In CLEAR and GREEN editions a breakdown cell fed by fewer than opts.k
 *    participants is withheld, and so are the smallest other cells until the
 *    withheld ones together come from at least k participants (or all are
 *    withheld), so that no cell can be worked out from a total; per-participant
 *    lists (the inventory, participants per indicator under k) are withheld.
 * Every total, share and rank is computed after these rules, never before.
 */
#ifndef CS_REPORT_SIT_H
#define CS_REPORT_SIT_H

#include <stdio.h>
#include <stdint.h>

#include "cs_common.h"
#include "cs_obs.h"

typedef struct cs_report_sit_s cs_report_sit_t;

/**
 * An empty situation of the period [from, to) read at tier seconds per bucket
 * (CS_KEYS_TIER_HOUR or _DAY); the previous period is [2 from - to, from).
 * from and to are multiples of tier. NULL on out of memory.
 */
cs_report_sit_t *cs_report_sit_new(int64_t from, int64_t to, int64_t tier);
/**
 * Adds the count n of roll-up field (cs_keys_roll_field()) in the bucket
 * starting at bucket (either period; others are ignored).
 * @returns 0, or -1 with errstr set (a field that is not one, out of memory).
 */
int cs_report_sit_add(cs_report_sit_t *s, int64_t bucket, const char *field, int64_t n, char *errstr,
		      size_t errstr_size);
/** A participant (P:part): every string copied; last_event epoch seconds or -1. */
int cs_report_sit_add_part(cs_report_sit_t *s, const char *id, const char *name, const char *kind, const char *ms,
			   const char *sector, cs_tlp_t tlp, int64_t last_event);
/**
 * An indicator (P:ind): type, source and tags copied; confidence -1 when none;
 * first[t] and last[t]: the first and last window with a hit of TLP t, or -1.
 */
int cs_report_sit_add_ind(cs_report_sit_t *s, const char *value, const char *type, cs_tlp_t tlp, const char *source,
			  const char *tags, int confidence, const int64_t first[CS_TLP__CNT],
			  const int64_t last[CS_TLP__CNT]);

/**
 * Where an indicator already added came from (P:ind id: "file:line",
 * "file:indicator--<uuid>" for a STIX or TAXII indicator, "file:misp:<uuid>"):
 * what its sightings point at. Copied. 0, or -1 on out of memory.
 */
int cs_report_sit_ind_origin(cs_report_sit_t *s, const char *value, const char *origin);

/**
 * An escalation: the stream entry's JSON (docs/ESCALATION.md) and the TLP of
 * its stream; kept when its last hit is in the period.
 * @returns 0, or -1 with errstr set (not an escalation, out of memory).
 */
int cs_report_sit_add_esc(cs_report_sit_t *s, cs_tlp_t tlp, const char *json, char *errstr, size_t errstr_size);
/** Escalations held. */
size_t cs_report_sit_escalations(const cs_report_sit_t *s);

typedef struct cs_report_sit_fetch_opts_s {
	const char *redis_host;
	int redis_port;
	const char *key_prefix;
	int64_t from, to; /* the period, epoch seconds: [from, to) */
	int64_t tier;     /* 0: the coarsest that answers; else CS_KEYS_TIER_HOUR or _DAY (the bench compares them) */
	const char *redis_user, *redis_password; /* AUTH when a password is set */
} cs_report_sit_fetch_opts_t;

/**
 * Reads the period and the one before it from Redis, at the coarsest tier
 * that answers (days for periods longer than 7 days, else hours): its end is
 * rounded up to a bucket and its length up to whole buckets, so that "the
 * last 24 hours" are the 24 hourly buckets up to the current one,
 * in one pipeline. An empty period is an empty situation, not an error.
 * @returns NULL with errstr set: Redis down, a key of the wrong type, a field
 *          or count that is not one (named with its key).
 */
cs_report_sit_t *cs_report_sit_fetch(const cs_report_sit_fetch_opts_t *opts, char *errstr, size_t errstr_size);
void cs_report_sit_period(const cs_report_sit_t *s, int64_t *from, int64_t *to, int64_t *tier);
/** Roll-up counts held (both periods). */
size_t cs_report_sit_counts(const cs_report_sit_t *s);
void cs_report_sit_destroy(cs_report_sit_t *s);

/* ---- editions ---- */
typedef struct cs_report_ed_opts_s {
	cs_tlp_t audience;
	const char *org;    /* AMBER+STRICT and RED: the organization the edition is for (required) */
	const char *hub;    /* the hub's organization id (default "hub") */
	const char *title;  /* default "Cyber Shield situation report" */
	int k;              /* CLEAR and GREEN: participants a cell needs (default 3) */
	int top;            /* top indicators listed (default 20) */
	int64_t silent_s;   /* a participant silent longer than this is flagged (default 86400) */
	int64_t now;        /* epoch seconds: the report's time (silence is measured to it) */
} cs_report_ed_opts_t;

typedef struct cs_report_ed_s cs_report_ed_t;

/** Computes the edition. @returns NULL with errstr set (no org for a strict edition, out of memory). */
cs_report_ed_t *cs_report_ed_new(const cs_report_sit_t *s, const cs_report_ed_opts_t *opts, char *errstr,
				 size_t errstr_size);
/** The document's label: the strictest figure it holds (CLEAR when it holds none). */
cs_tlp_t cs_report_ed_tlp(const cs_report_ed_t *ed);
/** The edition as JSON (docs/REPORTS.md has the schema). */
void cs_report_ed_json(const cs_report_ed_t *ed, FILE *fp);
/** As Markdown, indicators defanged. */
void cs_report_ed_md(const cs_report_ed_t *ed, FILE *fp);
/** As one self-contained HTML page: inline CSS and SVG, nothing fetched, the TLP label in every page's header and footer. */
void cs_report_ed_html(const cs_report_ed_t *ed, FILE *fp);
/**
 * The draft early warnings of the edition's escalations (NIS2 Art. 23, the
 * CSIRTs network's nis taxonomy): one JSON object a line, or Markdown.
 */
void cs_report_ed_early_warnings(const cs_report_ed_t *ed, FILE *fp, int markdown);
/** As a STIX 2.1 bundle: the hub's identity, TLP 2.0 markings, indicators, sightings, a report. */
void cs_report_ed_stix(const cs_report_ed_t *ed, FILE *fp);
/**
 * The edition's sightings (docs/SHARING.md): one per (indicator, participant
 * or the hub, bucket of the period) with hits the audience may see, counted
 * only from those hits and labelled with their strictest TLP. A participant
 * is named (its identity in where_sighted_refs) only when that label is AMBER
 * or stricter and the audience may see the participant; every other hit of
 * the bucket is the hub's. sighting_of_ref is the producer's indicator id
 * (a STIX or TAXII id; a MISP attribute's uuid as MISP's STIX export names
 * it), else the hub's own indicator, then in the bundle. Ids are derived from
 * what they name; a bucket that ended settle_s before the report's time has a
 * fixed version (sending it again is harmless), a younger one the report's
 * time as its modified (a newer version of the same sighting).
 * As a STIX 2.1 bundle (misp == 0), or as MISP /sightings/add requests, one
 * JSON object a line, one per hit up to misp_max per sighting (MISP keeps no
 * count), each with a uuid derived from the sighting's and its rank.
 */
void cs_report_ed_sightings(const cs_report_ed_t *ed, FILE *fp, int64_t settle_s, int misp, int misp_max);
void cs_report_ed_destroy(cs_report_ed_t *ed);

/** An indicator made safe to print: "evil.eu" -> "evil[.]eu", "http" -> "hxxp", "@" -> "[@]"; returns out. */
char *cs_report_defang(const char *value, char *out, size_t size);

#endif /* CS_REPORT_SIT_H */
