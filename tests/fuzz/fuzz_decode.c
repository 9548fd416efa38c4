/*
 * libFuzzer targets of the decoder. Built once per format with
 * CS_FUZZ_FMT=<cs_decode_fmt_t> (the message is the whole input), and once
 * without it: the envelope target, where the first byte picks the format and
 * the content-encoding (none, zstd, lz4) and the rest is the message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cs_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *opaque, const cs_decode_event_t *ev, cs_decode_reject_t r) {
	size_t size = *(size_t *)opaque;
	if (ev->offset > size || ev->obs_cnt > 256)
		__builtin_trap();
	for (size_t i = 0; i < ev->obs_cnt; i++)
		if ((unsigned)ev->obs[i].type >= CS_OBS__TYPE_CNT || (ev->obs[i].type != CS_OBS_TEXT &&
		    ev->obs[i].len != strlen(ev->obs[i].value)))
			__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static cs_decode_conf_t *conf;
	static cs_decode_t *dec;
	char errstr[128];
	if (!dec) {
		conf = cs_decode_conf_new();
		dec = cs_decode_new(conf, errstr, sizeof(errstr));
	}
#ifdef CS_FUZZ_FMT
	cs_decode_message(dec, (cs_decode_fmt_t)CS_FUZZ_FMT, NULL, data, size, check, &size);
#else
	/* first byte picks the format and the encoding, the rest is the message */
	if (size < 1)
		return 0;
	cs_decode_message(dec, (cs_decode_fmt_t)(data[0] % CS_DECODE_FMT__CNT),
			  (data[0] & 0x80) ? ((data[0] & 0x40) ? "zstd" : "lz4") : NULL, data + 1, size - 1, check,
			  &size);
#endif
	return 0;
}
