/* libFuzzer target: the plain indicator list loader, then a match of every
 * indicator's own value (each must hit itself). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "cs_correlate.h"
#include "cs_fuzz_self.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		cs_fuzz_self_match(db);
		cs_corr_db_destroy(db);
	}
out:
	if (fd >= 0)
		close(fd);
	return 0;
}
