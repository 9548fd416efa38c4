/*
 * cs_fuzz_self.h - the property the indicator fuzz targets check on every set
 * they manage to build: each exact indicator matches its own normalized value,
 * and a prefix's network address falls inside some prefix (its own, or a
 * longer one). Patterns are skipped: a regex need not match its own text.
 * A violation, or a scratch that cannot be made, traps.
 */
#ifndef CS_FUZZ_SELF_H
#define CS_FUZZ_SELF_H

#include <string.h>

#include "cs_correlate.h"

typedef struct cs_fuzz_self_s {
	const cs_corr_ind_t *want; /* NULL: any hit will do */
	int found;
} cs_fuzz_self_t;

static int cs_fuzz_self_hit(void *opaque, const cs_corr_hit_t *hit) {
	cs_fuzz_self_t *s = opaque;
	if (!s->want || hit->ind == s->want)
		s->found = 1;
	return 0;
}

static void cs_fuzz_self_match(const cs_corr_db_t *db) {
	char errstr[256];
	cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
	if (!scr)
		__builtin_trap();
	for (size_t i = 0; i < cs_corr_db_count(db); i++) {
		const cs_corr_ind_t *ind = cs_corr_db_indicator(db, (uint32_t)i);
		cs_obs_t obs = {ind->type, CS_OBS_ROLE_DST, ind->value,
				ind->cidr ? strcspn(ind->value, "/") : strlen(ind->value)};
		cs_fuzz_self_t self = {ind->cidr ? NULL : ind, 0};
		int role = 0;
		while (ind->scope && !(ind->scope & (1u << role))) /* where it may match */
			role++;
		if (ind->scope)
			obs.role = (cs_obs_role_t)role;
		if (ind->pattern) { /* a whole-value text comparison matches its text, in its role */
			static char lit[CS_NORM_CAP];
			if (!cs_norm_text_literal(ind->value, lit, sizeof(lit)) || strlen(lit) < 4 || memchr(lit, '\n', strlen(lit)))
				continue;
			obs.type = CS_OBS_TEXT;
			obs.value = lit;
			obs.len = strlen(lit);
		}
		if (cs_corr_match(db, scr, &obs, cs_fuzz_self_hit, &self) || !self.found)
			__builtin_trap();
	}
	cs_corr_scratch_destroy(scr);
}

#endif /* CS_FUZZ_SELF_H */
