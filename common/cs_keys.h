/*
 * cs_keys.h - the Redis contract: every key name and field format cshield
 * writes or reads, in one place. cshield-ingest's flush (ingest/
 * cs_ingest_flush.c and the script it runs, cs_ingest_flush.lua), the report,
 * the tests and the bench name keys and fields only through this header.
 * docs/REDIS.md describes the same schema for people.
 *
 * P is aggregate.key.prefix (default "cs"), W is aggregate.window.s.
 *
 *   P:win:W:<start>          hash   indicator value -> hits in the window
 *   P:wtlp:W:<start>         hash   "<tlp>|<value>" -> hits of that TLP in the window
 *   P:dim:W:<start>          hash   "<tlp>|<events|hits>|<dim>:<value>" -> count
 *   P:src:W:<start>:<value>  HLL    ids of the participants that reported a hit on value
 *   P:top:<day start>:<tlp>  zset   value, score = hits of that TLP during the UTC day
 *   P:wins:W                 zset   every window start with data (member = score = start)
 *   P:ind:<value>            hash   the indicator: type, tlp, source, tags, confidence, id
 *   P:off:<group>            hash   "<topic>/<partition>" -> next offset to consume
 *   P:stats                  hash   events, hits, suppressed, late, future, values_skipped,
 *                                   observables_dropped
 *   P:rejects                hash   rejection reason code -> events
 *   P:suppressed             hash   warning list name -> hits not counted
 *   P:alerts:<tlp>           stream fields id, alert (JSON): the alerts of that TLP (a reader of an
 *                                   audience reads the streams at or below it; ACLs can enforce it)
 *   P:roll:T:<start>         hash   roll-up of tier T (3600: hours, 86400: days), one count per
 *                                   "<tlp>|<itlp>|<org>|<what>[|<value>]" (cs_keys_roll_field())
 *   P:wins:T                 zset   every roll-up bucket of tier T with data
 *   P:part:<id>              hash   a participant: name, kind, ms, sector, tlp, last_event
 *   P:esc:<value>            hash   escalation state of an indicator: per participant "o|<org>" ->
 *                                   "<last>|<first>|<hits>|<tlp>|<ms>|<sector>", per level
 *                                   "r|<tlp>" -> "<at>|<member states>|<participants>|<seq>|<id>"
 *   P:escalations:<tlp>      stream fields id, tlp, escalation (JSON): escalations of that TLP
 *   P:escrelay               string the escalation relay's lease (the instance holding it)
 *   P:retro:W:<start>        hash   "<tlp>|<value>" -> retro-hunt hits in the window (apart from P:win)
 *   P:retro:wins:W           zset   every window start with retro-hunt hits
 *
 * Every builder writes a NUL-terminated name into buf and returns its length,
 * or -1 when it does not fit (nothing useful is written then).
 * @locality any thread; no allocation
 */
#ifndef CS_KEYS_H
#define CS_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "cs_obs.h"

/* the longest key or field cshield builds: an indicator value (at most 4096
 * bytes) with a key prefix (at most 64) and the rest of its name */
#define CS_KEYS_MAX (4096 + 256)

int cs_keys_win(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start);
int cs_keys_wtlp(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start);
int cs_keys_dim(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start);
int cs_keys_src(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start, const char *value);
/** The day's top for TLP tlp; day_start is any second of the day (rounded down to midnight UTC). */
int cs_keys_top(char *buf, size_t size, const char *prefix, int64_t day, cs_tlp_t tlp);
int cs_keys_wins(char *buf, size_t size, const char *prefix, int64_t window_s);
int cs_keys_ind(char *buf, size_t size, const char *prefix, const char *value);
int cs_keys_off(char *buf, size_t size, const char *prefix, const char *group);
int cs_keys_stats(char *buf, size_t size, const char *prefix);
int cs_keys_rejects(char *buf, size_t size, const char *prefix);
int cs_keys_suppressed(char *buf, size_t size, const char *prefix);
/** The alert stream of TLP tlp. */
int cs_keys_alerts(char *buf, size_t size, const char *prefix, cs_tlp_t tlp);
/** The roll-up bucket of tier (CS_KEYS_TIER_HOUR or _DAY) starting at start. */
int cs_keys_roll(char *buf, size_t size, const char *prefix, int64_t tier, int64_t start);
int cs_keys_part(char *buf, size_t size, const char *prefix, const char *id);
/** An indicator's escalation state. */
int cs_keys_esc(char *buf, size_t size, const char *prefix, const char *value);
/** The escalation stream of TLP tlp. */
int cs_keys_escalations(char *buf, size_t size, const char *prefix, cs_tlp_t tlp);
/** A window's retro-hunt hits, and their index. */
int cs_keys_retro(char *buf, size_t size, const char *prefix, int64_t window_s, int64_t start);
int cs_keys_retro_wins(char *buf, size_t size, const char *prefix, int64_t window_s);
/** The lease of the relay of escalations to Kafka. */
int cs_keys_esc_relay(char *buf, size_t size, const char *prefix);

/* the roll-up tiers (seconds per bucket): what situation reports read */
#define CS_KEYS_TIER_HOUR 3600
#define CS_KEYS_TIER_DAY 86400

/* ---- fields ---- */

/* P:stats */
#define CS_KEYS_STAT_EVENTS "events"
#define CS_KEYS_STAT_HITS "hits"
#define CS_KEYS_STAT_SUPPRESSED "suppressed"
#define CS_KEYS_STAT_LATE "late"
#define CS_KEYS_STAT_FUTURE "future"                   /* events too far ahead of their arrival */
#define CS_KEYS_STAT_STRINGS_SKIPPED "values_skipped"  /* longer than decode.max.string.bytes */
#define CS_KEYS_STAT_OBS_DROPPED "observables_dropped" /* beyond decode.max.observables */
#define CS_KEYS_STAT_RETRO_EVENTS "retro_events"       /* events a retro-hunt scanned again */
#define CS_KEYS_STAT_RETRO_HITS "retro_hits"           /* hits a retro-hunt found (not in "hits") */
/* P:ind:<value> */
#define CS_KEYS_IND_TYPE "type"
#define CS_KEYS_IND_TLP "tlp"
#define CS_KEYS_IND_SOURCE "source"
#define CS_KEYS_IND_TAGS "tags"
#define CS_KEYS_IND_CONFIDENCE "confidence" /* absent when the feed gave none */
#define CS_KEYS_IND_ID "id"
/* and, per TLP of the hits (cs_keys_ind_seen_field()), the first and last window start with one */
#define CS_KEYS_IND_FIRST "first"
#define CS_KEYS_IND_LAST "last"
/* P:part:<id> */
#define CS_KEYS_PART_NAME "name"
#define CS_KEYS_PART_KIND "kind"
#define CS_KEYS_PART_MS "ms"
#define CS_KEYS_PART_SECTOR "sector"
#define CS_KEYS_PART_TLP "tlp"
#define CS_KEYS_PART_LAST "last_event" /* the latest window start with one of its events (epoch s) */
/* P:alerts entries */
#define CS_KEYS_ALERT_ID "id"
#define CS_KEYS_ALERT_JSON "alert"
/* P:escalations entries */
#define CS_KEYS_ESC_ID "id"
#define CS_KEYS_ESC_TLP "tlp"
#define CS_KEYS_ESC_JSON "escalation"
/* P:dim: what is counted */
#define CS_KEYS_DIM_EVENTS "events"
#define CS_KEYS_DIM_HITS "hits"

/** P:off field of a partition: "<topic>/<partition>". */
int cs_keys_off_field(char *buf, size_t size, const char *topic, int32_t partition);
/** P:wtlp field: "<tlp>|<value>". */
int cs_keys_wtlp_field(char *buf, size_t size, cs_tlp_t tlp, const char *value);
/**
 * Splits a P:wtlp field into its TLP and value (*value points into field).
 * @returns 0, or -1 when it is not "<tlp>|<value>" with a known label.
 */
int cs_keys_wtlp_parse(const char *field, cs_tlp_t *tlp, const char **value);

/** The most bytes of an event-supplied value kept in a dimension field. */
#define CS_KEYS_DIM_VALUE_MAX 64
/**
 * P:dim field "<tlp>|<what>|<dim>:<value>": what is CS_KEYS_DIM_EVENTS or
 * CS_KEYS_DIM_HITS, dim "org", "ms", "sector", "kind", "category",
 * "severity" or "late"; value[0..len) is cut at CS_KEYS_DIM_VALUE_MAX bytes
 * and '|' and control characters in it become '/'.
 */
int cs_keys_dim_field(char *buf, size_t size, cs_tlp_t tlp, const char *what, const char *dim, const char *value,
		      size_t len);

/** P:ind field "first|<tlp>" or "last|<tlp>" (which: CS_KEYS_IND_FIRST or _LAST). */
int cs_keys_ind_seen_field(char *buf, size_t size, const char *which, cs_tlp_t tlp);

/*
 * P:roll fields: "<tlp>|<itlp>|<org>|<what>[|<value>]", one count each.
 *   tlp   the TLP of the count: for hits the stricter of the indicator's and the participant's
 *   itlp  for hits, the indicator's own TLP; "-" for counts of events (no indicator)
 *   org   the participant's id, "unregistered", or "-" without a participant registry
 *   what  one of the CS_KEYS_ROLL_* below; value (cut at CS_KEYS_DIM_VALUE_MAX bytes but for
 *         indicators, '|' and controls as '/' but for indicators, which come last) when it has one
 */
#define CS_KEYS_ROLL_EVENTS "ev"    /* events received */
#define CS_KEYS_ROLL_LATE "late"    /* events counted in their arrival bucket */
#define CS_KEYS_ROLL_REJECT "rej"   /* |<reason code>: events rejected */
#define CS_KEYS_ROLL_FORMAT "fmt"   /* |<format>: events by format */
#define CS_KEYS_ROLL_IND "i"        /* |<indicator value>: hits */
#define CS_KEYS_ROLL_CATEGORY "cat" /* |<category>: hits by the event's category */
#define CS_KEYS_ROLL_SEVERITY "sev" /* |<severity>: hits by the event's severity */
#define CS_KEYS_ROLL_SUPPRESSED "sup" /* |<warning list>: hits not counted */
/* the org of events without a registry, and of events no registered participant sent */
#define CS_KEYS_ORG_NONE "-"
#define CS_KEYS_ORG_UNREGISTERED "unregistered"

/** itlp < 0: "-" (events). value NULL: none. */
int cs_keys_roll_field(char *buf, size_t size, cs_tlp_t tlp, int itlp, const char *org, const char *what,
		       const char *value, size_t len);

typedef struct cs_keys_roll_s {
	cs_tlp_t tlp;
	int itlp; /* -1: "-" */
	const char *org, *what, *value; /* point into the field; value NULL when none */
	size_t org_len, what_len;
} cs_keys_roll_t;
/** Splits a P:roll field. @returns 0, or -1 when it is not one. */
int cs_keys_roll_parse(const char *field, cs_keys_roll_t *out);

/**
 * Reads a count or an offset as Redis writes integers: an optional '-', then
 * "0" or a digit 1-9 and digits, fitting in 64 bits; nothing before or after.
 * @returns 0, or -1 when s[0..len) is not one.
 */
int cs_keys_parse_i64(const char *s, size_t len, int64_t *out);

#endif /* CS_KEYS_H */
