/*
 * cs_obs.c - names of observable types and roles. Pure, any thread.
 */
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
