/* libFuzzer target: the plain indicator list loader, then a match of every
 * indicator's own value (each must hit itself). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "cs_correlate.h"

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

static int on_any(void *opaque, const cs_corr_hit_t *hit) {
	((self_t *)opaque)->found = 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char path[64], errstr[256];
	cs_corr_db_t *db;
	int fd = memfd_create("cs-fuzz-ind", 0);

	if (fd < 0 || size > 65536)
		goto out;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((db = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr)))) {
		cs_corr_scratch_t *scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
		if (!scr)
			__builtin_trap();
		for (size_t i = 0; i < cs_corr_db_count(db); i++) {
			const cs_corr_ind_t *ind = cs_corr_db_indicator(db, (uint32_t)i);
			if (ind->pattern)
				continue; /* a pattern need not match its own source */
			if (ind->cidr) { /* its network address is inside some prefix (maybe a longer one) */
				cs_obs_t obs = {ind->type, CS_OBS_ROLE_DST, ind->value, strcspn(ind->value, "/")};
				self_t self = {NULL, 0};
				if (cs_corr_match(db, scr, &obs, on_any, &self) || !self.found)
					__builtin_trap();
				continue;
			}
			cs_obs_t obs = {ind->type, CS_OBS_ROLE_DST, ind->value, strlen(ind->value)};
			self_t self = {ind, 0};
			if (cs_corr_match(db, scr, &obs, on_hit, &self) || !self.found)
				__builtin_trap(); /* every indicator matches its own value */
		}
		cs_corr_scratch_destroy(scr);
		cs_corr_db_destroy(db);
	}
out:
	if (fd >= 0)
		close(fd);
	return 0;
}
