/* libFuzzer target: the STIX pattern parser on its own (the input is one pattern),
 * through the builder, so that what it accepts is normalized and compiled too
 * (MATCHES goes to Hyperscan). Every accepted value must match itself. */
#include <stdlib.h>
#include <string.h>

#include "cs_corr_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	const cs_corr_ind_t *want;
	int found;
} self_t;

static int on_hit(void *opaque, const cs_corr_hit_t *hit) {
	self_t *s = opaque;
	if (hit->ind == s->want)
		s->found = 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	cs_corr_builder_t b;
	char *pat, errstr[256];
	cs_corr_db_t *db;

	if (size > 8192 || !(pat = malloc(size + 1)))
		return 0;
	memcpy(pat, data, size);
	pat[size] = '\0';
	if (cs__corr_builder_init(&b, 1)) {
		free(pat);
		return 0;
	}
	if (cs__corr_stix_pattern(&b, "fuzz", pat)) {
		cs__corr_builder_abort(&b);
		free(pat);
		return 0;
	}
	free(pat);
	if (!(db = cs__corr_builder_finish(&b, "fuzz", errstr, sizeof(errstr))))
		return 0; /* nothing accepted, or a pattern Hyperscan refused: both reported */
	{
		cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
		for (size_t i = 0; scr && i < cs_corr_db_count(db); i++) {
			const cs_corr_ind_t *ind = cs_corr_db_indicator(db, (uint32_t)i);
			cs_obs_t obs = {ind->type, CS_OBS_ROLE_DST, ind->value, strlen(ind->value)};
			self_t st = {ind, 0};
			if (ind->cidr || ind->pattern)
				continue; /* a prefix is not an address; a regex need not match its own text */
			cs_corr_match(db, scr, &obs, on_hit, &st);
			if (!st.found)
				__builtin_trap(); /* an accepted, normalized value must match itself */
		}
		cs_corr_scratch_destroy(scr);
	}
	cs_corr_db_destroy(db);
	return 0;
}
