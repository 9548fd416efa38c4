/*
 * libFuzzer target of host and URL normalization (common/cs_norm.c): the
 * input is a host, then a URL, as an event or an indicator would carry it.
 * cs_norm_host() and cs_norm_url() must give what their byte-by-byte
 * references (cs_norm_host_bytewise(), cs_norm_url_bytewise()) give, type
 * and bytes; a second normalization changes nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cs_norm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static char a[CS_NORM_CAP], b[CS_NORM_CAP];
	size_t la = size, lb = size;
	int ta, tb;

	if (size > CS_NORM_MAX_IN)
		return 0;
	memcpy(a, data, size);
	a[size] = '\0';
	memcpy(b, data, size);
	b[size] = '\0';
	ta = cs_norm_host(a, &la, sizeof(a));
	tb = cs_norm_host_bytewise(b, &lb, sizeof(b));
	if (ta != tb || (ta >= 0 && (la != lb || memcmp(a, b, la + 1))))
		__builtin_trap();
	if (ta >= 0) {
		size_t l2 = la;
		if (cs_norm_host(a, &l2, sizeof(a)) != ta || l2 != la)
			__builtin_trap();
	}
	/* the same bytes as a URL */
	la = lb = size;
	memcpy(a, data, size);
	a[size] = '\0';
	memcpy(b, data, size);
	b[size] = '\0';
	ta = cs_norm_url(a, &la, sizeof(a));
	tb = cs_norm_url_bytewise(b, &lb, sizeof(b));
	if (ta != tb || (ta == 0 && (la != lb || memcmp(a, b, la + 1))))
		__builtin_trap();
	if (ta == 0 && la <= CS_NORM_MAX_IN) { /* escapes can make it longer than any input taken */
		size_t l2 = la;
		if (cs_norm_url(a, &l2, sizeof(a)) != 0 || l2 != la || memcmp(a, b, la + 1))
			__builtin_trap();
	}
	return 0;
}
