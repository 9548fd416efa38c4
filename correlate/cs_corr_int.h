/*
 * cs_corr_int.h - internal layout of the correlation engine's types.
 * Not for use outside correlate/.
 */
#ifndef CS_CORR_INT_H
#define CS_CORR_INT_H

#include <hs.h>

#include "cs_correlate.h"

/* Exact values: open addressing over (type, value), indicator index + 1 per slot. */
typedef struct cs_corr_exact_s {
	uint32_t *slots;
	size_t size; /* power of two */
} cs_corr_exact_t;

struct cs_corr_db_s {
	uint64_t version;
	cs_corr_ind_t *inds; /* [cnt], values and origins owned */
	size_t cnt;
	char **rejects; /* [reject_cnt] "file:line: reason", owned */
	size_t reject_cnt;
	cs_corr_exact_t exact;   /* every exact indicator (IPs, domains, URLs, digests) */
	hs_database_t *patterns; /* Hyperscan: pattern indicators over text and URLs; NULL if none */
	uint32_t pattern_cnt;
};

struct cs_corr_scratch_s {
	hs_scratch_t *scratch; /* big enough for every database of the set */
};

#endif /* CS_CORR_INT_H */
