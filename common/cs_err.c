/*
 * cs_err.c - the error table's strings.
 * DESIGN: generated from CS_ERR_MAP; pure functions, any thread.
 */
#include <stdio.h>

#include "cs_common.h"

const char *cs_err2str(cs_err_t err) {
	switch (err) {
#define CS__ERR_STR(code, name, str) \
	case CS_ERR_##name:          \
		return str;
		CS_ERR_MAP(CS__ERR_STR)
#undef CS__ERR_STR
	}
	return "unknown error";
}

const char *cs_err2name(cs_err_t err) {
	switch (err) {
#define CS__ERR_NAME(code, name, str) \
	case CS_ERR_##name:           \
		return "CS_ERR_" #name;
		CS_ERR_MAP(CS__ERR_NAME)
#undef CS__ERR_NAME
	}
	return "CS_ERR_UNKNOWN";
}

void cs_errstr_set(char *errstr, size_t errstr_size, const char *fmt, ...) {
	va_list ap;

	if (!errstr || errstr_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errstr, errstr_size, fmt, ap);
	va_end(ap);
}
