/* libFuzzer target: properties files through cshield-ingest's tables. */
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>

#include "cs_ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char path[64], errstr[512];
	cs_ingest_conf_t *conf;
	int fd = memfd_create("cs-fuzz-conf", 0);

	if (fd < 0 || size > 65536 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((conf = cs_ingest_conf_new())) {
		if (cs_ingest_conf_load(conf, path, errstr, sizeof(errstr)) && !errstr[0])
			__builtin_trap(); /* every error has a message */
		cs_ingest_conf_destroy(conf);
	}
	close(fd);
	return 0;
}
