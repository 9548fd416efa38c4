/*
 * cs_taxii.h - a TAXII 2.1 client (libcurl) for one collection: pull the
 * objects added since a point (every page), push objects (sightings), and
 * merge pulled objects into a STIX 2.1 bundle file that the indicator loader
 * reads like any other (indicators keep the server's ids, so hits name them).
 *
 * Cold path: JSON through jansson. One client per thread (a curl handle is
 * not shared).
 *
 * Ownership: options are copied by cs_taxii_new(); json_t objects returned
 * are new references the caller decrefs; json_t objects passed in are
 * borrowed.
 */
#ifndef CS_TAXII_H
#define CS_TAXII_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct cs_taxii_s cs_taxii_t;

typedef struct cs_taxii_opts_s {
	const char *collection_url; /* "https://host/api1/collections/<id>/" (a missing final '/' is added) */
	const char *user;           /* HTTP basic authentication when set */
	const char *password;
	const char *cacert;         /* PEM file of the CAs to trust; NULL: the system's */
	long timeout_s;             /* per request, connection included (default 30) */
	int page_limit;             /* objects asked per page (default 500; the server may send fewer) */
	size_t max_bytes;           /* largest response body taken (default 64 MiB) */
} cs_taxii_opts_t;

/** A client. @returns NULL with errstr set (bad URL, out of memory). */
cs_taxii_t *cs_taxii_new(const cs_taxii_opts_t *opts, char *errstr, size_t errstr_size);
void cs_taxii_destroy(cs_taxii_t *t);

/**
 * Every object added to the collection after added_after (a TAXII timestamp;
 * NULL or "": all), following the pages ("more"/"next", or
 * X-TAXII-Date-Added-Last when a server pages without "next").
 * On success *objects is a JSON array (a new reference) and last_added holds
 * the server's X-TAXII-Date-Added-Last of the last page ("" when it sent none).
 * @returns 0, or -1 with errstr set, *objects NULL: the server unreachable, an
 *          HTTP error (401 and 404 named), a body that is not a TAXII envelope,
 *          larger than max_bytes, or a server that pages for ever.
 */
int cs_taxii_pull(cs_taxii_t *t, const char *added_after, json_t **objects, char *last_added, size_t last_added_size,
		  char *errstr, size_t errstr_size);

/** What the server said of a push (its status resource, summed over the requests). */
typedef struct cs_taxii_status_s {
	int64_t total, success, failure, pending;
} cs_taxii_status_t;

/**
 * Adds objects (a JSON array) to the collection, in requests of at most 500
 * objects. Objects the server already holds (same id and modified) are its
 * failures, and harmless: ids are deterministic.
 * @returns 0 (st summed), or -1 with errstr set (st holds the requests that went through).
 */
int cs_taxii_push(cs_taxii_t *t, json_t *objects, cs_taxii_status_t *st, char *errstr, size_t errstr_size);

/**
 * Merges objects (a JSON array) into the STIX 2.1 bundle file path (created
 * when missing): an object whose id is new is appended, one whose modified is
 * later replaces the held one, the rest are ignored. Written to a temporary
 * file, synced, then renamed: a reader sees the old bundle or the new one.
 * @returns the objects added or replaced, or -1 with errstr set (the file
 *          left as it was).
 */
long cs_taxii_bundle_merge(const char *path, json_t *objects, char *errstr, size_t errstr_size);

#endif /* CS_TAXII_H */
