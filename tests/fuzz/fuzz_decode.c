/* libFuzzer target: the first-slice event decoder on arbitrary bytes. */
#include <stddef.h>
#include <string.h>
#include <stdint.h>

#include "cs_ingest_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static cs_ingest_event_t ev;
	int rc = cs_ingest_decode((const char *)data, size, &ev);
	if (rc == -1)
		for (size_t i = 0; i < ev.obs_cnt; i++)
			if (ev.obs[i].len != strlen(ev.obs[i].value) || (unsigned)ev.obs[i].type >= CS_OBS__TYPE_CNT)
				__builtin_trap();
	return 0;
}
