/*
 * cs_corr_int.h - internal layout of the correlation engine's types.
 * Not for use outside correlate/.
 */
#ifndef CS_CORR_INT_H
#define CS_CORR_INT_H

#include <hs.h>

#include "cs_correlate.h"

/* One Hyperscan database per observable type it applies to. */
typedef struct cs_corr_hsdb_s {
	hs_database_t *db; /* NULL when the set has no indicator of this type */
	uint32_t cnt;
} cs_corr_hsdb_t;

struct cs_corr_db_s {
	uint64_t version;
	cs_corr_ind_t *inds; /* [cnt], values and origins owned */
	size_t cnt;
	char **rejects; /* [reject_cnt] "file:line: reason", owned */
	size_t reject_cnt;
	cs_corr_hsdb_t hs[CS_OBS__TYPE_CNT];
};

struct cs_corr_scratch_s {
	hs_scratch_t *scratch; /* big enough for every database of the set */
};

#endif /* CS_CORR_INT_H */
