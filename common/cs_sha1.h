/*
 * cs_sha1.h - SHA-1 (FIPS 180-4) and name-based UUIDs (RFC 9562 version 5),
 * for identifiers that must be the same each time the same thing is written
 * (STIX ids of reports, sightings). Not for security: SHA-1 is broken for that.
 * @locality any thread; no allocation
 */
#ifndef CS_SHA1_H
#define CS_SHA1_H

#include <stddef.h>
#include <stdint.h>

void cs_sha1(const void *data, size_t len, uint8_t out[20]);
/**
 * The version-5 UUID of name in namespace ns ("6ba7b810-9dad-11d1-80b4-00c04fd430c8"
 * form, 36 characters) into out[37]. @returns 0, or -1 when ns is not a UUID.
 */
int cs_uuid5(const char *ns, const char *name, size_t name_len, char out[37]);

#endif /* CS_SHA1_H */
