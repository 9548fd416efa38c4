/*
 * cs_corr_int.h - internal layout of the correlation engine's types.
 * Not for use outside correlate/.
 */
#ifndef CS_CORR_INT_H
#define CS_CORR_INT_H

#include <stdio.h>
#include <stdatomic.h>
#include <hs.h>

#include "cs_correlate.h"

/*
 * Exact values: open addressing over (type, value). A slot holds the
 * indicator index + 1 (low 32 bits, 0 = empty) and the high 32 bits of the
 * value's hash, so that a probe of another value is refused without reading
 * the indicator (with a million values, each read is a cache miss).
 */
typedef struct cs_corr_exact_s {
	uint64_t *slots;
	size_t size; /* power of two */
	/* a blocked Bloom filter over the tags (3 bits in one 64-bit word, about 8 bits per
	 * value): most lookups are misses, and this answers them from the CPU cache */
	uint64_t *bloom;
	unsigned bloom_shift; /* 64 - log2(words) */
} cs_corr_exact_t;

#define CS__SLOT_IDX(s) ((uint32_t)(s))
#define CS__SLOT_TAG(h) ((uint64_t)(h) >> 32 << 32)

/* CIDR prefixes (shorter than /32 or /128): an open-addressing index over (family, length, network). */
typedef struct cs_corr_cidr_s {
	uint8_t v6, len;
	uint8_t net[16];
	uint32_t ind;
} cs_corr_cidr_t;

typedef struct cs_corr_cidrs_s {
	cs_corr_cidr_t *v; /* [cnt] */
	size_t cnt, cap;
	uint32_t *slots; /* index into v + 1 */
	size_t size;
	uint8_t lens4[33], lens6[129]; /* lengths present, longest first; *_cnt of them */
	int lens4_cnt, lens6_cnt;
} cs_corr_cidrs_t;

/* A set of owned strings (open addressing): interned metadata, a layer's masked keys. */
typedef struct cs_corr_strtab_s {
	char **slots;
	size_t cnt, size; /* size: power of two */
} cs_corr_strtab_t;

/** s's copy in t, added when absent; NULL on out of memory. */
const char *cs__strtab_put(cs_corr_strtab_t *t, const char *s);
/** Whether t holds s. */
int cs__strtab_has(const cs_corr_strtab_t *t, const char *s);
void cs__strtab_free(cs_corr_strtab_t *t);
/** The key a layer masks a base indicator by: "<kind>\t<normalized value>". */
void cs__mask_key(const cs_corr_ind_t *ind, char *buf, size_t size);

struct cs_corr_db_s {
	uint64_t version;
	atomic_int refs; /* 1 for the loader's; cs_corr_db_ref(), live readers and layers add theirs */
	cs_corr_ind_t *inds; /* [cnt], values and origins owned */
	size_t cnt;
	char **rejects; /* [reject_cnt] "file:line: reason", owned */
	size_t reject_cnt;
	cs_corr_exact_t exact;   /* every exact indicator (IPs, domains, URLs, digests) */
	cs_corr_cidrs_t cidrs;   /* IPv4/IPv6 prefixes: the longest containing one matches */
	char **warn_names;       /* [warn_cnt] names of the warning lists applied */
	size_t warn_cnt, warned;
	size_t url_prefixes;     /* URL prefix indicators (written "http://host/path/" plus a star) in the exact index */
	hs_database_t *patterns; /* Hyperscan: pattern indicators over text and URLs; NULL if none */
	uint32_t pattern_cnt;
	char patterns_note[1400];
	cs_corr_strtab_t strs;   /* interned source and tag strings */
	/* a layer over base (cs_corr_db_overlay): base's hits whose key is masked are dropped */
	cs_corr_db_t *base;      /* a reference held on it; NULL for a set loaded from files */
	uint32_t id_base;        /* the layer's ids start here (base's count) */
	cs_corr_strtab_t masked; /* "<type>\t<value>" keys this layer revokes or redefines */ /* compiled or from the cache, and how long it took */
};

/* ---- building a set (cs_corr_db.c), fed by the loaders (cs_corr_load.c) ---- */

#define CS_CORR_K_AUTO -1   /* URL if it has "://", a digest by length, e-mail, else host */
#define CS_CORR_K_IP 1
#define CS_CORR_K_HOST 2    /* domain or IP */
#define CS_CORR_K_URL 3     /* "http://" is added when the scheme is missing */
#define CS_CORR_K_HASH 4
#define CS_CORR_K_EMAIL 5
#define CS_CORR_K_PATTERN 6 /* a Hyperscan regex, or "re[/FLAGS]:REGEX" / "lit[/i]:TEXT" */
#define CS_CORR_K_CIDR 7    /* an IPv4 or IPv6 prefix a.b.c.d/n (an IP is taken as /32 or /128) */
#define CS_CORR_K_REGEX 8   /* a Hyperscan regex as it is (STIX MATCHES: no "re:" forms) */

/* What the loader knows of the indicators it is about to add (strings borrowed). */
typedef struct cs_corr_meta_s {
	const char *source, *tags;
	int revoked;
	int tlp; /* -1: the default */
	int confidence;
	int64_t valid_from_ms, valid_until_ms;
	uint32_t scope;
} cs_corr_meta_t;

typedef struct cs_corr_builder_s {
	cs_corr_db_t *db;
	cs_corr_meta_t meta; /* applied by cs__corr_add; cs__corr_meta_reset() between indicators */
	cs_tlp_t default_tlp;
	const char *file_source; /* the source of indicators whose format names none: the file's name */
	const char *cache_dir;   /* compiled-database cache (cs_corr_load_opts_t); NULL: none */
	cs_corr_exact_t set; /* becomes db->exact */
	size_t cap, rcap, dup_cnt;
	/* patterns Hyperscan accepted before (hs-checked.bin in cache_dir): hashes of the
	 * expressions, so that a reload does not analyze thousands of patterns again */
	uint64_t *ok;
	size_t ok_size, ok_cnt;
	int ok_loaded, ok_dirty;
} cs_corr_builder_t;

cs_err_t cs__corr_builder_init(cs_corr_builder_t *b, uint64_t version);
/** Frees db now, whatever its count (cs_corr_db_destroy() drops a reference). */
void cs__corr_db_free(cs_corr_db_t *db);
/** Forgets the metadata of the previous indicator. */
void cs__corr_meta_reset(cs_corr_builder_t *b);
/**
 * Normalizes and adds one indicator. When it is not valid, nothing is added
 * and *why says why (the caller rejects it with its own origin).
 * @returns CS_ERR_OK or CS_ERR_NOMEM
 */
cs_err_t cs__corr_add(cs_corr_builder_t *b, int kind, const char *value, size_t len, const char *origin,
		      const char **why);
cs_err_t cs__corr_reject(cs_corr_builder_t *b, const char *origin, const char *reason, const char *value,
			 size_t len);
/** The set, or NULL (errstr) when nothing valid was loaded or patterns do not compile. */
cs_corr_db_t *cs__corr_builder_finish(cs_corr_builder_t *b, const char *what, char *errstr, size_t errstr_size);
void cs__corr_builder_abort(cs_corr_builder_t *b);

/** Clears the host bits of address a (bytes long) beyond prefix length len. */
void cs__corr_mask(uint8_t *a, int bytes, int len);

/** Flags the indicators of db that MISP warning lists under dir name (cs_corr_warn.c). */
cs_err_t cs__corr_apply_warninglists(cs_corr_db_t *db, const char *dir, char *errstr, size_t errstr_size);

/** The indicators of one STIX pattern ("[domain-name:value = 'x' OR ...]"), or its rejection (cs_corr_load.c). */
cs_err_t cs__corr_stix_pattern(cs_corr_builder_t *b, const char *origin, const char *pattern);

cs_err_t cs__corr_load_list(cs_corr_builder_t *b, const char *path, FILE *fp, char *errstr, size_t errstr_size);

struct cs_corr_scratch_s {
	hs_scratch_t *scratch; /* big enough for every database of the set */
	int64_t at_ms;         /* events' time for validity; 0 = none */
	int all_prefixes;      /* report every containing CIDR prefix, not only the longest */
};

#endif /* CS_CORR_INT_H */
