/*
 * 0010-ind-meta: what each indicator format says about an indicator (source,
 * TLP, confidence, tags, validity, scope) reaches the engine, duplicates merge
 * to the widest reading, and scope and validity apply at match time.
 */
#include <sys/stat.h>

#include "cs_test.h"
#include "cs_correlate.h"

typedef struct {
	const cs_corr_ind_t *ind[8];
	size_t cnt;
} hits_t;

static int on_hit(void *opaque, const cs_corr_hit_t *hit) {
	hits_t *h = opaque;
	if (h->cnt < 8)
		h->ind[h->cnt++] = hit->ind;
	return 0;
}

static size_t match(const cs_corr_db_t *db, cs_corr_scratch_t *scr, cs_obs_type_t type, cs_obs_role_t role,
		    const char *v, hits_t *h) {
	cs_obs_t obs = {type, role, v, strlen(v)};
	h->cnt = 0;
	if (cs_corr_match(db, scr, &obs, on_hit, h))
		return (size_t)-1;
	return h->cnt;
}

static const cs_corr_ind_t *find(const cs_corr_db_t *db, const char *value) {
	for (size_t i = 0; i < cs_corr_db_count(db); i++)
		if (!strcmp(cs_corr_db_indicator(db, (uint32_t)i)->value, value))
			return cs_corr_db_indicator(db, (uint32_t)i);
	return NULL;
}

int cs_test_0010(void) {
	char csv[512], zeek[512], stix[512], misp[512], errstr[512];
	const char *paths[4];
	cs_corr_load_opts_t opts = {NULL, CS_TLP_GREEN, NULL, NULL};
	const cs_corr_ind_t *ind;
	cs_corr_db_t *db;
	cs_corr_scratch_t *scr;
	hits_t h;
	int64_t t_from, t_until;

	/* TLP labels */
	CS_TEST_EQ_INT(cs_tlp_parse("TLP:AMBER+STRICT", 16), CS_TLP_AMBER_STRICT);
	CS_TEST_EQ_INT(cs_tlp_parse("tlp:white", 9), CS_TLP_CLEAR);
	CS_TEST_EQ_INT(cs_tlp_parse("Red", 3), CS_TLP_RED);
	CS_TEST_EQ_INT(cs_tlp_parse("amber+", 6), -1);
	CS_TEST_EQ_INT(cs_tlp_parse("", 0), -1);
	CS_TEST_EQ_STR(cs_tlp2str(CS_TLP_AMBER_STRICT), "amber+strict");

	snprintf(csv, sizeof(csv), "%s/feed.csv", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(csv, "ioc_value,tlp,confidence_level,malware,tags,scope,source\n"
					       "c2.example.eu,amber,75,win.emotet,\"botnet,loader\",destination,CERT-XX\n"
					       "198.51.100.7,red,,,,\"source;destination\",\n"
					       "bad-tlp.example.eu,purple,,,,,\n"
					       "bad-scope.example.eu,,,,,elsewhere,\n"
					       "shared.example.eu,amber,40,,,,\n"),
		       0);
	snprintf(zeek, sizeof(zeek), "%s/feed.intel", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(zeek, "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\t"
						"meta.cif_confidence\tmeta.if_in\n"
						"dns-only.example.eu\tIntel::DOMAIN\tcsirt-yy\tphishing kit\t90\tDNS::IN_REQUEST\n"
						"anywhere.example.eu\tIntel::DOMAIN\t-\t-\t-\t-\n"
						"nowhere.example.eu\tIntel::DOMAIN\tx\t-\t-\tFOO::IN_BAR\n"
						"shared.example.eu\tIntel::DOMAIN\tcsirt-yy\t-\t80\tDNS::IN_REQUEST\n"),
		       0);
	CS_TEST_EQ_INT(cs_time_parse_iso8601("2026-01-01T00:00:00Z", 20, &t_from), 0);
	CS_TEST_EQ_INT(cs_time_parse_iso8601("2026-02-01T00:00:00Z", 20, &t_until), 0);
	snprintf(stix, sizeof(stix), "%s/bundle.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(
		cs_test_write_file(
			stix,
			"{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
			"{\"type\":\"identity\",\"id\":\"identity--a\",\"name\":\"CERT-EU\"},"
			"{\"type\":\"marking-definition\",\"id\":\"marking-definition--custom\",\"name\":\"TLP:AMBER+STRICT\","
			"\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"amber+strict\"}},"
			"{\"type\":\"indicator\",\"id\":\"indicator--1\",\"created_by_ref\":\"identity--a\","
			"\"object_marking_refs\":[\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\"],"
			"\"confidence\":85,\"indicator_types\":[\"malicious-activity\"],\"labels\":[\"apt-x\"],"
			"\"valid_from\":\"2026-01-01T00:00:00Z\",\"valid_until\":\"2026-02-01T00:00:00Z\","
			"\"pattern_type\":\"stix\",\"pattern\":\"[domain-name:value = 'timed.example.eu']\"},"
			"{\"type\":\"indicator\",\"id\":\"indicator--2\","
			"\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\","
			"\"marking-definition--custom\"],"
			"\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '203.0.113.9']\"},"
			"{\"type\":\"indicator\",\"id\":\"indicator--3\",\"revoked\":true,"
			"\"pattern_type\":\"stix\",\"pattern\":\"[ipv4-addr:value = '203.0.113.10']\"}]}\n"),
		0);
	snprintf(misp, sizeof(misp), "%s/event.json", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(misp, "{\"Event\":{\"Orgc\":{\"name\":\"CIRCL\"},"
						"\"Tag\":[{\"name\":\"tlp:green\"},{\"name\":\"misp-galaxy:threat-actor=\\\"APT28\\\"\"}],"
						"\"Attribute\":["
						"{\"uuid\":\"u-1\",\"type\":\"domain\",\"value\":\"misp.example.eu\",\"to_ids\":true,"
						"\"Tag\":[{\"name\":\"tlp:red\"},{\"name\":\"phishing\"}]},"
						"{\"uuid\":\"u-2\",\"type\":\"ip-dst\",\"value\":\"192.0.2.77\",\"to_ids\":true}]}}\n"),
		       0);
	paths[0] = csv;
	paths[1] = zeek;
	paths[2] = stix;
	paths[3] = misp;
	CS_TEST_ASSERT((db = cs_corr_db_load_opts(paths, 4, &opts, 7, errstr, sizeof(errstr))), "%s", errstr);
	for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
		CS_TEST_SAY("rejected: %s", cs_corr_db_reject(db, i));
	/* rejected: the unknown TLP, the unknown scope, the unknown Zeek location, the revoked one */
	CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 4);
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 0), "feed.csv:4: unknown TLP label"), "%s", cs_corr_db_reject(db, 0));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 1), "feed.csv:5: scope names an unknown role"), "%s",
		       cs_corr_db_reject(db, 1));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 2), "feed.intel:4: meta.if_in"), "%s", cs_corr_db_reject(db, 2));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 3), "indicator--3: revoked"), "%s", cs_corr_db_reject(db, 3));
	CS_TEST_EQ_INT(cs_corr_db_count(db), 9);

	/* CSV columns */
	CS_TEST_ASSERT((ind = find(db, "c2.example.eu")), "c2");
	CS_TEST_EQ_INT(ind->tlp, CS_TLP_AMBER);
	CS_TEST_EQ_INT(ind->confidence, 75);
	CS_TEST_EQ_STR(ind->tags, "win.emotet,botnet,loader");
	CS_TEST_EQ_STR(ind->source, "CERT-XX");
	CS_TEST_EQ_INT(ind->scope, 1u << CS_OBS_ROLE_DST);
	CS_TEST_ASSERT((ind = find(db, "198.51.100.7")), "ip");
	CS_TEST_EQ_INT(ind->tlp, CS_TLP_RED);
	CS_TEST_EQ_INT(ind->confidence, -1);
	CS_TEST_EQ_STR(ind->source, "feed.csv"); /* no source column value: the file's name */
	CS_TEST_EQ_INT(ind->scope, (1u << CS_OBS_ROLE_SRC) | (1u << CS_OBS_ROLE_DST));
	/* Zeek intel meta columns */
	CS_TEST_ASSERT((ind = find(db, "dns-only.example.eu")), "zeek");
	CS_TEST_EQ_STR(ind->source, "csirt-yy");
	CS_TEST_EQ_STR(ind->tags, "phishing kit");
	CS_TEST_EQ_INT(ind->confidence, 90);
	CS_TEST_EQ_INT(ind->scope, 1u << CS_OBS_ROLE_DNS_QUERY);
	CS_TEST_EQ_INT(ind->tlp, CS_TLP_GREEN); /* unmarked: the load's default */
	CS_TEST_ASSERT((ind = find(db, "anywhere.example.eu")), "zeek2");
	CS_TEST_EQ_INT(ind->scope, 0);
	CS_TEST_EQ_STR(ind->source, "feed.intel");
	/* the same value in the CSV (amber, 40, anywhere) and Zeek (default green, 80, dns query only):
	 * the more open TLP, the higher confidence, anywhere */
	CS_TEST_ASSERT((ind = find(db, "shared.example.eu")), "shared");
	CS_TEST_EQ_INT(ind->tlp, CS_TLP_GREEN);
	CS_TEST_EQ_INT(ind->confidence, 80);
	CS_TEST_EQ_INT(ind->scope, 0);
	/* STIX: identity, TLP 1.0 green by its fixed id, confidence, types and labels, validity */
	CS_TEST_ASSERT((ind = find(db, "timed.example.eu")), "stix");
	CS_TEST_EQ_STR(ind->source, "CERT-EU");
	CS_TEST_EQ_INT(ind->tlp, CS_TLP_GREEN);
	CS_TEST_EQ_INT(ind->confidence, 85);
	CS_TEST_EQ_STR(ind->tags, "malicious-activity,apt-x");
	CS_TEST_EQ_INT(ind->valid_from_ms, t_from);
	CS_TEST_EQ_INT(ind->valid_until_ms, t_until);
	CS_TEST_ASSERT(strstr(ind->origin, "bundle.json:indicator--1"), "%s", ind->origin);
	CS_TEST_ASSERT((ind = find(db, "203.0.113.9")), "stix2");
	CS_TEST_EQ_INT(ind->tlp, CS_TLP_AMBER_STRICT); /* green + a bundle's own amber+strict: the stricter */
	CS_TEST_EQ_INT(ind->confidence, -1);
	CS_TEST_EQ_STR(ind->source, "bundle.json");
	/* MISP: the creator organization, event tags then attribute tags, TLP the stricter */
	CS_TEST_ASSERT((ind = find(db, "misp.example.eu")), "misp");
	CS_TEST_EQ_STR(ind->source, "CIRCL");
	CS_TEST_EQ_INT(ind->tlp, CS_TLP_RED);
	CS_TEST_EQ_STR(ind->tags, "misp-galaxy:threat-actor=\"APT28\",phishing");
	CS_TEST_ASSERT((ind = find(db, "192.0.2.77")), "misp2");
	CS_TEST_EQ_INT(ind->tlp, CS_TLP_GREEN);
	CS_TEST_EQ_STR(ind->source, "CIRCL");

	/* scope at match time */
	CS_TEST_ASSERT((scr = cs_corr_scratch_new(db, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "dns-only.example.eu", &h), 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "a.b.dns-only.example.eu", &h), 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_HTTP_HOST, "dns-only.example.eu", &h), 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DST, "c2.example.eu", &h), 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_SRC, "c2.example.eu", &h), 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, CS_OBS_ROLE_SRC, "198.51.100.7", &h), 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, CS_OBS_ROLE_DNS_ANSWER, "198.51.100.7", &h), 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_URL_HOST, "x.anywhere.example.eu", &h), 1);
	/* validity against the event's time: [valid_from, valid_until) */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "timed.example.eu", &h), 1); /* no time: all */
	cs_corr_scratch_at(scr, t_from - 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "timed.example.eu", &h), 0);
	cs_corr_scratch_at(scr, t_from);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "timed.example.eu", &h), 1);
	CS_TEST_EQ_INT(h.ind[0]->tlp, CS_TLP_GREEN);
	cs_corr_scratch_at(scr, t_until - 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "timed.example.eu", &h), 1);
	cs_corr_scratch_at(scr, t_until);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "timed.example.eu", &h), 0);
	/* indicators without validity match at any time */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, CS_OBS_ROLE_DNS_QUERY, "misp.example.eu", &h), 1);
	cs_corr_scratch_destroy(scr);
	cs_corr_db_destroy(db);

	/* URL prefixes (a trailing star) match at path boundaries; CIDR: the longest, or all on request */
	{
		char list[600];
		hits_t hh;
		snprintf(list, sizeof(list), "%s/prefixes.txt", cs_test_tmpdir());
		CS_TEST_EQ_INT(cs_test_write_file(list, "http://Evil.Example.EU:80/dl/*\nhttp://evil.example.eu/x.php*\n"
							"http://evil.example.eu/exact.bin\n10.0.0.0/8\n10.1.0.0/16\n10.1.2.3\n"),
			       0);
		CS_TEST_ASSERT((db = cs_corr_db_load_list(list, 1, errstr, sizeof(errstr))), "%s", errstr);
		CS_TEST_ASSERT((scr = cs_corr_scratch_new(db, errstr, sizeof(errstr))), "%s", errstr);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, CS_OBS_ROLE_URL, "http://evil.example.eu/dl/a/b.exe?x=1", &hh), 1);
		CS_TEST_EQ_STR(hh.ind[0]->value, "http://evil.example.eu/dl/*");
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, CS_OBS_ROLE_URL, "http://evil.example.eu/dl/", &hh), 1);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, CS_OBS_ROLE_URL, "http://evil.example.eu/dlx/a", &hh), 0);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, CS_OBS_ROLE_URL, "http://evil.example.eu/x.php?id=7", &hh), 1);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, CS_OBS_ROLE_URL, "http://evil.example.eu/x.phpx", &hh), 0);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, CS_OBS_ROLE_URL, "http://evil.example.eu/exact.bin", &hh), 1);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, CS_OBS_ROLE_URL, "http://evil.example.eu/exact.bin.gz", &hh), 0);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, CS_OBS_ROLE_URL, "http://other.example.eu/dl/a", &hh), 0);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, CS_OBS_ROLE_DST, "10.1.2.3", &hh), 1); /* the exact address */
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, CS_OBS_ROLE_DST, "10.1.9.9", &hh), 1);
		CS_TEST_EQ_STR(hh.ind[0]->value, "10.1.0.0/16");
		cs_corr_scratch_all_prefixes(scr, 1);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, CS_OBS_ROLE_DST, "10.1.2.3", &hh), 3);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, CS_OBS_ROLE_DST, "10.1.9.9", &hh), 2);
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, CS_OBS_ROLE_DST, "10.200.0.1", &hh), 1);
		cs_corr_scratch_destroy(scr);
		cs_corr_db_destroy(db);
	}

	/* the compiled-database cache: compiled and cached, then read back; a damaged file is recompiled */
	{
		char dir[600], list[600], cmd[1400];
		const char *lp = list;
		cs_corr_load_opts_t co = {NULL, CS_TLP_AMBER, dir, NULL};
		snprintf(dir, sizeof(dir), "%s/hscache", cs_test_tmpdir());
		snprintf(list, sizeof(list), "%s/patterns.txt", cs_test_tmpdir());
		CS_TEST_EQ_INT(mkdir(dir, 0700), 0);
		CS_TEST_EQ_INT(cs_test_write_file(list, "re:powershell\\s+-enc\nre:mimikatz\nevil.example.eu\n"), 0);
		for (int round = 0; round < 4; round++) {
			const char *note;
			hits_t hh;
			CS_TEST_ASSERT((db = cs_corr_db_load_opts(&lp, 1, &co, 1, errstr, sizeof(errstr))), "%s", errstr);
			note = cs_corr_db_patterns_note(db);
			CS_TEST_SAY("round %d: %s", round, note);
			/* 0: compiled; 1: from the cache; 2 (file damaged before): compiled again; 3: cache */
			CS_TEST_ASSERT(round % 2 ? strstr(note, "2 patterns from the cache") != NULL
						 : strstr(note, "compiled 2 patterns") && strstr(note, "cached in"),
				       "round %d: %s", round, note);
			CS_TEST_ASSERT((scr = cs_corr_scratch_new(db, errstr, sizeof(errstr))), "%s", errstr);
			CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, CS_OBS_ROLE_COMMAND_LINE, "cmd /c powershell  -enc AAAA", &hh), 1);
			CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, CS_OBS_ROLE_COMMAND_LINE, "mimikat", &hh), 0);
			cs_corr_scratch_destroy(scr);
			cs_corr_db_destroy(db);
			if (round == 1) { /* damage the cache file: it must be ignored and rewritten */
				snprintf(cmd, sizeof(cmd), "for f in %s/hs-*.zst; do printf garbage > $f; done", dir);
				CS_TEST_EQ_INT(system(cmd), 0);
			}
		}
		/* the patterns Hyperscan accepted are remembered (8-byte header, one hash each), so a
		 * reload does not analyze them again; a pattern not in the memo is still checked */
		{
			struct stat st;
			const char *why = NULL;
			snprintf(cmd, sizeof(cmd), "%s/hs-checked.bin", dir);
			CS_TEST_EQ_INT(stat(cmd, &st), 0);
			CS_TEST_EQ_INT((long long)st.st_size, 8 + 2 * 8);
			CS_TEST_EQ_INT(cs_test_write_file(list, "re:powershell\\s+-enc\nre:(unclosed\n"), 0);
			CS_TEST_ASSERT((db = cs_corr_db_load_opts(&lp, 1, &co, 1, errstr, sizeof(errstr))), "%s", errstr);
			CS_TEST_EQ_INT(cs_corr_db_count(db), 1);
			CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 1);
			why = cs_corr_db_reject(db, 0);
			CS_TEST_ASSERT(strstr(why, "rejected by Hyperscan"), "%s", why);
			cs_corr_db_destroy(db);
			/* a damaged memo is ignored */
			CS_TEST_EQ_INT(cs_test_write_file(cmd, "garbage!garbage!"), 0);
			CS_TEST_ASSERT((db = cs_corr_db_load_opts(&lp, 1, &co, 1, errstr, sizeof(errstr))), "%s", errstr);
			CS_TEST_EQ_INT(cs_corr_db_count(db), 1);
			CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 1);
			cs_corr_db_destroy(db);
		}
	}
	/* substring and regex warning lists (one Hyperscan database at load); a list without
	 * matching_attributes applies to every type; a regex Hyperscan refuses is skipped, said */
	{
		char wl[300], list[600], path[800];
		const char *lp = list;
		size_t flagged = 0, said = 0;
		snprintf(wl, sizeof(wl), "%s/wl-pat", cs_test_tmpdir());
		snprintf(path, sizeof(path), "mkdir -p %s/a-sinkholes %s/b-tunnels", wl, wl);
		CS_TEST_EQ_INT(system(path), 0);
		snprintf(path, sizeof(path), "%s/a-sinkholes/list.json", wl);
		CS_TEST_EQ_INT(cs_test_write_file(path, "{\"name\":\"sinkholes\",\"type\":\"substring\",\"list\":[\"Sinkhole\",\"cdn.b\"],"
							"\"matching_attributes\":[\"domain\",\"hostname\",\"url\"]}"),
			       0);
		snprintf(path, sizeof(path), "%s/b-tunnels/list.json", wl);
		CS_TEST_EQ_INT(cs_test_write_file(path, "{\"name\":\"tunnels\",\"type\":\"regex\",\"list\":"
							"[\"^[a-z0-9-]+\\\\.ngrok\\\\.io$\",\"(unclosed\",\"^ops@\"]}"),
			       0);
		snprintf(list, sizeof(list), "%s/wl-pat.txt", cs_test_tmpdir());
		CS_TEST_EQ_INT(cs_test_write_file(list, "sinkhole.example.net\n"  /* substring, any case */
							"http://x.example.org/SINKHOLE/a\n" /* substring in a URL */
							"x.cdn.b.example.com\n"     /* a substring with a regex metacharacter */
							"x.cdnxb.example.com\n"     /* ... taken literally: not listed */
							"abc.ngrok.io\n"            /* regex, no matching_attributes */
							"abc.ngrok.io.evil.com\n"   /* anchored: not listed */
							"ops@example.org\n"         /* regex applies to e-mail too */
							"203.0.113.7\n"),
			       0);
		CS_TEST_ASSERT((db = cs_corr_db_load_ex(&lp, 1, wl, 1, errstr, sizeof(errstr))), "%s", errstr);
		CS_TEST_EQ_INT(cs_corr_db_warninglist_count(db), 2);
		for (size_t i = 0; i < cs_corr_db_count(db); i++) {
			const cs_corr_ind_t *wi = cs_corr_db_indicator(db, (uint32_t)i);
			const char *want = !strcmp(wi->value, "sinkhole.example.net") || !strcmp(wi->value, "x.cdn.b.example.com") ||
							   !strncmp(wi->value, "http://x.example.org/", 21)
						   ? "sinkholes"
					   : !strcmp(wi->value, "abc.ngrok.io") || !strcmp(wi->value, "ops@example.org") ? "tunnels"
															    : NULL;
			if (want) {
				CS_TEST_ASSERT(wi->warninglist >= 0, "%s is not flagged", wi->value);
				CS_TEST_EQ_STR(cs_corr_db_warninglist(db, (size_t)wi->warninglist), want);
				flagged++;
			} else {
				CS_TEST_ASSERT(wi->warninglist < 0, "%s flagged by %s", wi->value,
					       cs_corr_db_warninglist(db, (size_t)wi->warninglist));
			}
		}
		CS_TEST_EQ_INT(flagged, 5);
		for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
			said += strstr(cs_corr_db_reject(db, i), "warning list \"tunnels\": regex \"(unclosed\" skipped") != NULL;
		CS_TEST_EQ_INT(said, 1);
		cs_corr_db_destroy(db);
	}
	return 0;
}
