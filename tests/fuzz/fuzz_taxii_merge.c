/* libFuzzer target: the TAXII bundle file merge (cs_taxii_bundle_merge). The
 * input is the held file's bytes, a NUL, then the pulled objects (JSON). A held
 * file that is not a bundle must be refused and left byte for byte; otherwise
 * every pulled object with an id is in the file afterwards, once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_taxii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static char path[64];
	const uint8_t *nul = memchr(data, 0, size);
	json_t *objs, *after, *o;
	char errstr[512];
	size_t i;
	long r;
	FILE *fp;

	if (!nul || size > 65536)
		return 0;
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/cs-fuzz-taxii-%ld.json", (long)getpid());
	objs = json_loadb((const char *)nul + 1, size - (size_t)(nul - data) - 1, 0, NULL);
	if (!json_is_array(objs)) {
		json_decref(objs);
		return 0;
	}
	if (!(fp = fopen(path, "w")))
		__builtin_trap();
	fwrite(data, 1, (size_t)(nul - data), fp);
	fclose(fp);
	r = cs_taxii_bundle_merge(path, objs, errstr, sizeof(errstr));
	after = json_load_file(path, 0, NULL);
	if (r < 0) { /* refused: the held file as it was */
		FILE *in = fopen(path, "r");
		char buf[65536];
		size_t n = in ? fread(buf, 1, sizeof(buf), in) : 0;
		if (in)
			fclose(in);
		if (n != (size_t)(nul - data) || memcmp(buf, data, n))
			__builtin_trap();
	} else {
		json_array_foreach(objs, i, o) {
			const char *id = json_string_value(json_object_get(o, "id"));
			size_t k, seen = 0;
			json_t *x;
			if (!id)
				continue;
			json_array_foreach(json_object_get(after, "objects"), k, x)
				seen += json_is_string(json_object_get(x, "id")) && !strcmp(json_string_value(json_object_get(x, "id")), id);
			if (seen != 1)
				__builtin_trap();
		}
	}
	json_decref(after);
	json_decref(objs);
	unlink(path);
	return 0;
}
