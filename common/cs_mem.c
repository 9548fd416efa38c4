/*
 * cs_mem.c - allocation wrappers.
 * DESIGN: the single place cshield allocates. Thin over libc today; the fuzz
 * build can later inject failures here. Any thread.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>

#include "cs_common.h"

void *cs_malloc(size_t size) {
	return malloc(size ? size : 1);
}

void *cs_calloc(size_t nmemb, size_t size) {
	if (size && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *cs_realloc(void *ptr, size_t size) {
	return realloc(ptr, size ? size : 1);
}

void *cs_reallocarray(void *ptr, size_t nmemb, size_t size) {
	if (size && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return cs_realloc(ptr, nmemb * size);
}

char *cs_strndup(const char *s, size_t n) {
	char *d = cs_malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *cs_strdup(const char *s) {
	return cs_strndup(s, strlen(s));
}

void cs_free(void *ptr) {
	free(ptr);
}

int cs_array_reserve(void *pptr, size_t *cap, size_t want, size_t elem_size) {
	void **arr = pptr, *n;
	size_t ncap = *cap ? *cap : 16;

	if (want <= *cap)
		return 0;
	while (ncap < want)
		ncap *= 2;
	if (!(n = cs_reallocarray(*arr, ncap, elem_size)))
		return -1;
	*arr = n;
	*cap = ncap;
	return 0;
}
