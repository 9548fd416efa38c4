/*
 * libFuzzer target of host and URL normalization (common/cs_norm.c): the
 * input is a host, then a URL, as an event or an indicator would carry it.
 * cs_norm_host() and cs_norm_url() must give what their byte-by-byte
 * references (cs_norm_host_bytewise(), cs_norm_url_bytewise()) give, type
 * and bytes; a second normalization changes nothing. The first 7 to 15 bytes,
 * with what follows them: cs_norm_ipv4_canonical16() says what
 * cs_norm_ipv4_canonical() says.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cs_norm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int cs__norm_fn(char *buf, size_t *lenp, size_t cap);

/* data normalized by fn and by its reference ref: the same answer (>= 0 taken) and bytes; a
 * second pass over what fn made changes nothing. */
static void cs__check(cs__norm_fn *fn, cs__norm_fn *ref, const uint8_t *data, size_t size) {
	static char a[CS_NORM_CAP], b[CS_NORM_CAP];
	size_t la = size, lb = size;
	int ta, tb;

	memcpy(a, data, size);
	a[size] = '\0';
	memcpy(b, data, size);
	b[size] = '\0';
	ta = fn(a, &la, sizeof(a));
	tb = ref(b, &lb, sizeof(b));
	if (ta != tb || (ta >= 0 && (la != lb || memcmp(a, b, la + 1))))
		__builtin_trap();
	if (ta >= 0 && la <= CS_NORM_MAX_IN) { /* URL escapes can make it longer than any input taken */
		size_t l2 = la;
		if (fn(a, &l2, sizeof(a)) != ta || l2 != la || memcmp(a, b, la + 1))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if (size > CS_NORM_MAX_IN)
		return 0;
	cs__check(cs_norm_host, cs_norm_host_bytewise, data, size);
	cs__check(cs_norm_url, cs_norm_url_bytewise, data, size); /* the same bytes as a URL */
	if (size >= 8) { /* byte 0: the length; then 16 bytes (zero-padded) */
		char q[16] = {0};
		size_t len = 7 + data[0] % 9;
		memcpy(q, data + 1, size - 1 < 16 ? size - 1 : 16);
		if (cs_norm_ipv4_canonical16(q, len) != cs_norm_ipv4_canonical(q, len))
			__builtin_trap();
	}
	return 0;
}
