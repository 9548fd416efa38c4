/*
 * cs_norm.h - normalization of observable values, so that equal things
 * compare equal. Shared by the decoder (event values) and the correlation
 * engine (indicator values): both sides must normalize the same way.
 *
 * All functions work in place on a caller buffer of capacity cap (bytes,
 * including the NUL); they never allocate. Any thread.
 */
#ifndef CS_NORM_H
#define CS_NORM_H

#include <stddef.h>

/* A buffer of this size holds any normalized host or URL of CS_NORM_MAX_IN bytes of input. */
#define CS_NORM_MAX_IN 4096
#define CS_NORM_CAP (CS_NORM_MAX_IN * 3 + 64)

/**
 * Host (domain or IP literal): ASCII lower-cased, trailing dot removed, IPv6
 * brackets removed, IPv6 canonical (RFC 5952), IPv4-mapped IPv6 as the IPv4,
 * non-ASCII labels (UTF-8) to punycode A-labels ("xn--"); no UTS-46 mapping
 * beyond that. A domain needs at least two labels.
 * @returns CS_OBS_IPV4, CS_OBS_IPV6 or CS_OBS_DOMAIN, or -1 if it is no host.
 */
int cs_norm_host(char *buf, size_t *lenp, size_t cap);

/**
 * cs_norm_host() without its fast paths (a dotted quad, and a vector pass
 * over hosts of up to 64 bytes when cap >= len + 16): byte by byte, the
 * reference the tests and the fuzz target hold the fast paths to. Same answers.
 */
int cs_norm_host_bytewise(char *buf, size_t *lenp, size_t cap);

/**
 * Absolute URL (scheme://authority/path?query): scheme and host lower-cased,
 * host as cs_norm_host(), default port (http 80, https 443, ftp 21) and empty
 * port dropped, percent-escapes of unreserved characters decoded and the
 * others upper-cased, dot segments removed, empty path as "/", fragment
 * dropped. @returns 0, or -1 if it is not an absolute URL with a host.
 */
int cs_norm_url(char *buf, size_t *lenp, size_t cap);
/**
 * cs_norm_url() that also says where the normalized URL's host is when its
 * fast path knows it: *htype the host's type (cs_norm_host() of the host as
 * it was, which the URL now holds at buf + *hoff, *hlen bytes), else -1 (not
 * known: look for it in the URL).
 */
int cs_norm_url_host(char *buf, size_t *lenp, size_t cap, size_t *hoff, size_t *hlen, int *htype);

/**
 * cs_norm_url() without its fast path (a plain URL whose host alone can
 * change): the reference the tests and the fuzz target hold it to. Same answers.
 */
int cs_norm_url_bytewise(char *buf, size_t *lenp, size_t cap);

/**
 * 1 if s[0..len) is a dotted quad as inet_ntop() writes it (0-255, no
 * leading zeros): a normalized IPv4 host as it is (cs_norm_host() says
 * CS_OBS_IPV4 and leaves it unchanged), else 0.
 */
int cs_norm_ipv4_canonical(const char *s, size_t len);
/**
 * cs_norm_ipv4_canonical() for len 7 to 15 when s[0..16) is readable: the
 * same answer, without a branch on the bytes (the octets' lengths are
 * random to a branch predictor).
 */
int cs_norm_ipv4_canonical16(const char *s, size_t len);
/**
 * Hex digest: lower-cased; the type follows the length (32 md5, 40 sha1,
 * 64 sha256). @returns CS_OBS_MD5, CS_OBS_SHA1, CS_OBS_SHA256 or -1.
 */
int cs_norm_hash(char *buf, size_t len);

/**
 * E-mail address: "Name <a@b>" reduced to a@b, lower-cased, the domain as
 * cs_norm_host(). @returns 0 or -1.
 */
int cs_norm_email(char *buf, size_t *lenp, size_t cap);

/** Punycode-encodes (RFC 3492) a UTF-8 label into out. Returns the length or -1. */
int cs_norm_punycode(const char *label, size_t len, char *out, size_t cap);

/**
 * A STIX string comparison on a text observable as a Hyperscan expression:
 * op "=" the whole value ("^...$", every byte literal: metacharacters,
 * controls and bytes above 0x7e as \xHH), LIKE the same with % as .* and _ as
 * ., MATCHES the value as written. 0, or -1 when it does not fit in size.
 */
int cs_norm_text_re(const char *op, const char *value, char *out, size_t size);
/**
 * The inverse for "=": the text a whole-value expression stands for
 * ("^powershell\\x2eexe$" -> "powershell.exe") into out, or NULL when re is
 * not one (a regular expression of its own).
 */
const char *cs_norm_text_literal(const char *re, char *out, size_t size);

#endif /* CS_NORM_H */
