/* libFuzzer target: the STIX pattern parser on its own (the input is one pattern),
 * through the builder, so that what it accepts is normalized and compiled too
 * (MATCHES goes to Hyperscan). Every accepted value must match itself (cs_fuzz_self.h). */
#include <stdlib.h>
#include <string.h>

#include "cs_corr_int.h"
#include "cs_fuzz_self.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	cs_fuzz_self_match(db);
	cs_corr_db_destroy(db);
	return 0;
}
