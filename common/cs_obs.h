/*
 * cs_obs.h - observables: what the decoder extracts from an event and the
 * correlation engine matches. Shared by ingest/ (producer) and correlate/
 * (consumer), so it lives on the ground floor.
 *
 * Ownership: an observable's value is borrowed; it is valid only while the
 * event it came from is being processed (the decoder's buffer or the message
 * itself). Always use len: a TEXT value may point into the message unchanged
 * and is then not NUL-terminated; every other type is normalized
 * (cs_norm.h) and NUL-terminated.
 */
#ifndef CS_OBS_H
#define CS_OBS_H

#include <stddef.h>
#include <stdint.h>

#define CS_OBS_TYPE_MAP(XX)  \
	XX(IPV4, "ipv4")     \
	XX(IPV6, "ipv6")     \
	XX(DOMAIN, "domain") \
	XX(URL, "url")       \
	XX(MD5, "md5")       \
	XX(SHA1, "sha1")     \
	XX(SHA256, "sha256") \
	XX(EMAIL, "email")   \
	XX(TEXT, "text")

typedef enum cs_obs_type_e {
#define CS__OBS_T(name, str) CS_OBS_##name,
	CS_OBS_TYPE_MAP(CS__OBS_T)
#undef CS__OBS_T
	CS_OBS__TYPE_CNT
} cs_obs_type_t;

/* Where the observable was seen in the event. */
#define CS_OBS_ROLE_MAP(XX)                 \
	XX(SRC, "source")                   \
	XX(DST, "destination")              \
	XX(DNS_QUERY, "dns query")          \
	XX(HTTP_HOST, "http host")          \
	XX(TLS_SNI, "tls sni")              \
	XX(URL, "url")                      \
	XX(URL_HOST, "url host")            \
	XX(DNS_ANSWER, "dns answer")        \
	XX(FILE_HASH, "file hash")          \
	XX(CERT_HASH, "certificate hash")   \
	XX(MAIL_SENDER, "mail sender")      \
	XX(MAIL_RECIPIENT, "mail recipient") \
	XX(USER_AGENT, "user agent")        \
	XX(COMMAND_LINE, "command line")    \
	XX(RULE_NAME, "rule name")          \
	XX(URL_PATH, "url path")            \
	XX(HOSTNAME, "hostname")            \
	XX(INTEL, "intel indicator")        \
	XX(FILE_NAME, "file name")          \
	XX(MAIL_SUBJECT, "mail subject")    \
	XX(PROCESS_NAME, "process name")

typedef enum cs_obs_role_e {
#define CS__OBS_R(name, str) CS_OBS_ROLE_##name,
	CS_OBS_ROLE_MAP(CS__OBS_R)
#undef CS__OBS_R
	CS_OBS__ROLE_CNT
} cs_obs_role_t;

typedef struct cs_obs_s {
	cs_obs_type_t type;
	cs_obs_role_t role;
	const char *value; /* borrowed; see above */
	size_t len;
} cs_obs_t;

const char *cs_obs_type2str(cs_obs_type_t type);
const char *cs_obs_role2str(cs_obs_role_t role);
/** The role named str ("destination", "dns query"...), or -1. */
int cs_obs_role_parse(const char *str, size_t len);

/*
 * Traffic Light Protocol 2.0, least to most restrictive: an aggregate or an
 * alert carries the most restrictive label of what made it, and a report for
 * an audience shows only what is at or below the audience's label.
 */
#define CS_TLP_MAP(XX)                  \
	XX(CLEAR, "clear")              \
	XX(GREEN, "green")              \
	XX(AMBER, "amber")              \
	XX(AMBER_STRICT, "amber+strict") \
	XX(RED, "red")

typedef enum cs_tlp_e {
#define CS__TLP(name, str) CS_TLP_##name,
	CS_TLP_MAP(CS__TLP)
#undef CS__TLP
	CS_TLP__CNT
} cs_tlp_t;

/** "clear", "green", "amber", "amber+strict", "red". */
const char *cs_tlp2str(cs_tlp_t tlp);
/**
 * Parses a TLP label: the names above, case-insensitive, with or without a
 * "tlp:" prefix; TLP 1.0's "white" is "clear". Returns the label or -1.
 */
int cs_tlp_parse(const char *str, size_t len);

#endif /* CS_OBS_H */
