/*
 * cs_obs.c - names of observable types and roles. Pure, any thread.
 */
#include <string.h>
#include <strings.h>

#include "cs_obs.h"

const char *cs_obs_type2str(cs_obs_type_t type) {
	static const char *names[] = {
#define CS__OBS_T(name, str) str,
		CS_OBS_TYPE_MAP(CS__OBS_T)
#undef CS__OBS_T
	};
	return (unsigned)type < CS_OBS__TYPE_CNT ? names[type] : "?";
}

const char *cs_obs_role2str(cs_obs_role_t role) {
	static const char *names[] = {
#define CS__OBS_R(name, str) str,
		CS_OBS_ROLE_MAP(CS__OBS_R)
#undef CS__OBS_R
	};
	return (unsigned)role < CS_OBS__ROLE_CNT ? names[role] : "?";
}

int cs_obs_role_parse(const char *str, size_t len) {
	for (int r = 0; r < CS_OBS__ROLE_CNT; r++) {
		const char *n = cs_obs_role2str((cs_obs_role_t)r);
		if (strlen(n) == len && !strncasecmp(n, str, len))
			return r;
	}
	return -1;
}

const char *cs_tlp2str(cs_tlp_t tlp) {
	static const char *const names[] = {
#define CS__TLP_S(name, str) str,
		CS_TLP_MAP(CS__TLP_S)
#undef CS__TLP_S
	};
	return (unsigned)tlp < CS_TLP__CNT ? names[tlp] : "?";
}

int cs_tlp_parse(const char *str, size_t len) {
	while (len && (*str == ' ' || *str == '"'))
		str++, len--;
	while (len && (str[len - 1] == ' ' || str[len - 1] == '"'))
		len--;
	if (len >= 4 && !strncasecmp(str, "tlp:", 4))
		str += 4, len -= 4;
	if (len == 5 && !strncasecmp(str, "white", 5))
		return CS_TLP_CLEAR;
	for (int t = 0; t < CS_TLP__CNT; t++) {
		const char *n = cs_tlp2str((cs_tlp_t)t);
		if (strlen(n) == len && !strncasecmp(n, str, len))
			return t;
	}
	return -1;
}
