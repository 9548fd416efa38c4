/*
 * cs_correlate.h - the correlation engine: indicators in, hits out.
 *
 * A cs_corr_db_t is an immutable compiled indicator set, shared by every
 * worker thread without locks. Each thread matches with its own
 * cs_corr_scratch_t (one Hyperscan scratch per thread).
 *
 * First slice: indicators come from a plain list file (one IPv4, IPv6, domain,
 * URL or md5/sha1/sha256 digest a line, or a pattern "re:REGEX"; '#'
 * comments). Exact values live in a hash index: domains match themselves and
 * their subdomains (a walk over the observable's parent domains), IPs, URLs
 * and digests match exactly. Patterns are compiled with Hyperscan and scanned
 * over text and URL observables. The full engine (issue #4: CIDR,
 * hashes, patterns, MISP/STIX/CSV/Zeek intel, hot swap) replaces the loader
 * and indexes behind this same API.
 */
#ifndef CS_CORRELATE_H
#define CS_CORRELATE_H

#include <stddef.h>
#include <stdint.h>

#include "cs_common.h"
#include "cs_obs.h"
#include "cs_norm.h"

typedef struct cs_corr_db_s cs_corr_db_t;           /* shared, immutable */
typedef struct cs_corr_scratch_s cs_corr_scratch_t; /* one per thread */

typedef struct cs_corr_ind_s {
	uint32_t id;        /* dense index in the set, 0..count-1 */
	cs_obs_type_t type; /* what it matches against */
	const char *value;  /* normalized value (the aggregate key) */
	const char *origin; /* "file:line" */
	int pattern;        /* a Hyperscan pattern over text and URL observables (type CS_OBS_TEXT) */
	int cidr;           /* > 0: an IPv4/IPv6 prefix of that length ("10.0.0.0/8") */
	int warninglist;    /* >= 0: the value is on that MISP warning list; a hit is to be suppressed */
	/* what the source said about it (docs/FORMATS.md says where each comes from) */
	const char *source; /* the organization that shared it; the file's name when the format has none */
	const char *tags;   /* comma-separated (campaign, malware family, threat type...); "" when none */
	cs_tlp_t tlp;       /* its marking; the set's default (cs_corr_load_opts_t) when unmarked */
	int confidence;     /* 0..100; -1 when the source gave none */
	int64_t valid_from_ms, valid_until_ms; /* epoch ms; 0 = unbounded. Applied at match time */
	uint32_t scope;     /* bit (1 << role) per role it may match in ("where seen"); 0 = any */
	int revoked;        /* an overlay's record of a revocation: never matches, masks the base's value */
} cs_corr_ind_t;

/*
 * One change from the indicator change feed (indicators.topic): add (or
 * update) or revoke one value. Strings are borrowed for the call.
 */
typedef struct cs_corr_change_s {
	int revoke;
	const char *type;  /* domain, ipv4, ipv6, url, md5, sha1, sha256, email, cidr, pattern; NULL: detect */
	const char *value;
	const char *id;    /* the origin reported with hits and rejections; NULL: "change #n" */
	const char *source, *tags;
	int tlp;           /* -1: the load's default */
	int confidence;    /* -1: none */
	int64_t valid_from_ms, valid_until_ms;
} cs_corr_change_t;

/** Options of a load: what applies to indicators whose file says nothing of it. */
typedef struct cs_corr_load_opts_s {
	const char *warninglists_dir; /* MISP warning lists (see cs_corr_db_load_ex()); NULL: none */
	cs_tlp_t default_tlp;         /* TLP of unmarked indicators */
	/*
	 * Where compiled Hyperscan databases are kept (zstd, named by a hash of the
	 * patterns, their flags and ids, and the Hyperscan version and platform), so
	 * that loading the same patterns again does not compile them. NULL: no cache.
	 * A cache file that does not deserialize is ignored and rewritten.
	 */
	const char *cache_dir;
	/*
	 * The last good contents of each file, kept by the caller across loads
	 * (cs_corr_store_new()): a file that vanished or does not parse as a whole
	 * is loaded from them, and cs_corr_store_fallback() says so. NULL: none.
	 */
	struct cs_corr_store_s *store;
} cs_corr_load_opts_t;

typedef struct cs_corr_store_s cs_corr_store_t;
/** An empty store of last good file contents. @locality the loader's thread */
cs_corr_store_t *cs_corr_store_new(void);
void cs_corr_store_destroy(cs_corr_store_t *st);
/** Files the last load with this store took from it: their count, and each one's note (path, why, when). */
size_t cs_corr_store_fallback_count(const cs_corr_store_t *st);
const char *cs_corr_store_fallback(const cs_corr_store_t *st, size_t i);

typedef struct cs_corr_hit_s {
	const cs_corr_ind_t *ind; /* borrowed from the db */
	const cs_obs_t *obs;      /* borrowed from the caller */
	uint64_t db_version;
} cs_corr_hit_t;

/**
 * Called once per (observable, indicator) match. Return 0 to go on, non-zero
 * to stop matching this observable. Everything passed is borrowed.
 * @locality the thread that called cs_corr_match()
 */
typedef int(cs_corr_hit_cb_t)(void *opaque, const cs_corr_hit_t *hit);

/**
 * Loads and compiles a plain indicator list. Lines that are not a valid
 * indicator are rejected one by one (see cs_corr_db_rejects()) and the rest
 * still loads; a file with no valid indicator at all is an error.
 * @returns the set, or NULL with errstr set.
 * @locality any thread (typically the loader)
 */
cs_corr_db_t *cs_corr_db_load_list(const char *path, uint64_t version, char *errstr,
				   size_t errstr_size);

/**
 * Loads indicator files of any supported format into one set: plain lists,
 * Zeek intel files, CSV blocklists (abuse.ch style, header row), MISP events
 * (feed or REST export layout) and STIX 2.x bundles. The format is detected
 * per file (docs/FORMATS.md). Invalid indicators are rejected one by one with
 * their origin (file:line, MISP attribute uuid or STIX id) and the reason.
 * @returns the set, or NULL with errstr set when no file yields an indicator
 *          or a file cannot be read.
 */
cs_corr_db_t *cs_corr_db_load(const char *const *paths, size_t cnt, uint64_t version, char *errstr,
			      size_t errstr_size);

/**
 * As cs_corr_db_load(), and flags every indicator whose value is on one of
 * the MISP warning lists under warninglists_dir (lists/<name>/list.json or
 * <name>/list.json; types string, hostname, cidr; NULL: none). A flagged
 * indicator stays in the set with ->warninglist set: its hits are to be
 * suppressed and counted under the list's name (cs_corr_db_warninglist()).
 */
cs_corr_db_t *cs_corr_db_load_ex(const char *const *paths, size_t cnt, const char *warninglists_dir,
				 uint64_t version, char *errstr, size_t errstr_size);
/** As cs_corr_db_load_ex(), with every option. opts NULL: defaults (TLP:AMBER, no warning lists). */
cs_corr_db_t *cs_corr_db_load_opts(const char *const *paths, size_t cnt, const cs_corr_load_opts_t *opts,
				   uint64_t version, char *errstr, size_t errstr_size);
/** How the set's patterns were obtained: "no patterns", "compiled N patterns in X s[, cached]", "N patterns from the cache". */
const char *cs_corr_db_patterns_note(const cs_corr_db_t *db);
/**
 * A set layered over base: base's indicators minus the values changes revoke
 * or redefine, plus the values they add, without rebuilding base (a million
 * indicators take seconds to load; a thousand changes take milliseconds).
 * Holds a reference on base (cs_corr_live_t's count) until destroyed. Ids of
 * the layer's indicators follow base's (cs_corr_db_count() covers both). A
 * change that is not valid is a rejection (cs_corr_db_reject()). Warning
 * lists (opts->warninglists_dir) apply to the added values too.
 * @returns the layered set, or NULL with errstr when no change is valid.
 * @locality the loader thread
 */
cs_corr_db_t *cs_corr_db_overlay(const cs_corr_db_t *base, const cs_corr_change_t *changes, size_t cnt,
				 const cs_corr_load_opts_t *opts, uint64_t version, char *errstr, size_t errstr_size);
/** Number of warning lists loaded, and the name of the i-th. */
size_t cs_corr_db_warninglist_count(const cs_corr_db_t *db);
const char *cs_corr_db_warninglist(const cs_corr_db_t *db, size_t i);
/** Number of indicators flagged by a warning list. */
size_t cs_corr_db_warned_count(const cs_corr_db_t *db);

/**
 * Drops the caller's reference to the set (a loaded set starts with one); the
 * last reference frees it. Every scratch made for it must be gone first. NULL
 * is a no-op.
 */
void cs_corr_db_destroy(cs_corr_db_t *db);
/** Another reference to db (released with cs_corr_db_destroy()). Any thread. */
cs_corr_db_t *cs_corr_db_ref(const cs_corr_db_t *db);

size_t cs_corr_db_count(const cs_corr_db_t *db);
uint64_t cs_corr_db_version(const cs_corr_db_t *db);
const cs_corr_ind_t *cs_corr_db_indicator(const cs_corr_db_t *db, uint32_t id);
/** Number of rejected lines, and the i-th rejection's "file:line: reason". */
size_t cs_corr_db_reject_count(const cs_corr_db_t *db);
const char *cs_corr_db_reject(const cs_corr_db_t *db, size_t i);

/*
 * The live set: the current indicator set, replaced while workers match
 * (read-copy-update). A worker holds its set by reference and moves to a new
 * one only where it holds no pointer into the old one (between events, after
 * a flush): in-flight events finish on the set they started with, nothing
 * pauses. A set is freed when its last holder leaves it.
 */
typedef struct cs_corr_live_s cs_corr_live_t;

/** Starts with db (the caller's reference is taken over). NULL on out of memory (db is then still the caller's). */
cs_corr_live_t *cs_corr_live_new(cs_corr_db_t *db);
/**
 * Makes db (the caller's reference taken over) the current set; the previous one is freed once no
 * reader holds it. @locality the loader thread; any thread
 */
void cs_corr_live_publish(cs_corr_live_t *l, cs_corr_db_t *db);
/**
 * A reference to the current set (and the generation it belongs to); give it
 * back with cs_corr_live_release(). Takes a mutex: call it when the generation
 * changed, not per event.
 */
const cs_corr_db_t *cs_corr_live_acquire(cs_corr_live_t *l, uint64_t *generation);
void cs_corr_live_release(cs_corr_live_t *l, const cs_corr_db_t *db);
/**
 * Frees the sets their last reader gave up (readers never free: it would stall
 * them). Returns how many. @locality the loader thread, periodically
 */
size_t cs_corr_live_collect(cs_corr_live_t *l);
/** The current generation: one atomic load, for readers to poll. */
uint64_t cs_corr_live_generation(const cs_corr_live_t *l);
/** Drops the current set's reference and frees l; readers must have released theirs. */
void cs_corr_live_destroy(cs_corr_live_t *l);

/** A scratch for matching against db on one thread. NULL with errstr on failure. */
cs_corr_scratch_t *cs_corr_scratch_new(const cs_corr_db_t *db, char *errstr, size_t errstr_size);
void cs_corr_scratch_destroy(cs_corr_scratch_t *scr);
/** Grows scr so that it also serves db (a newly published set). @locality the owner of scr */
cs_err_t cs_corr_scratch_update(cs_corr_scratch_t *scr, const cs_corr_db_t *db, char *errstr, size_t errstr_size);

/**
 * Matching with scr from now on only reports indicators valid at ts_ms
 * (valid_from <= ts_ms < valid_until): pass the event's time, so that a
 * replay of the same events matches the same way. 0: no time filter.
 * @locality the thread that owns scr
 */
void cs_corr_scratch_at(cs_corr_scratch_t *scr, int64_t ts_ms);
/**
 * An address matches the longest CIDR prefix containing it (an exact address
 * being the longest); with all set, every containing prefix and the exact
 * address are reported (retro-hunting: cshield-ioc match --all-prefixes).
 * @locality the thread that owns scr
 */
void cs_corr_scratch_all_prefixes(cs_corr_scratch_t *scr, int all);

/**
 * Matches one observable. Indicators whose scope excludes the observable's
 * role, or (see cs_corr_scratch_at()) not valid at the event's time, are not
 * reported. The observable must already be normalized (see
 * cs_corr_norm_*()).
 * @locality the thread that owns scr
 * @returns CS_ERR_OK or CS_ERR_HS
 */
cs_err_t cs_corr_match(const cs_corr_db_t *db, cs_corr_scratch_t *scr, const cs_obs_t *obs,
		       cs_corr_hit_cb_t *cb, void *opaque);

#endif /* CS_CORRELATE_H */
