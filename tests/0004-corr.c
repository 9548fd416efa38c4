/* 0004-corr: plain indicator lists load with exact counts and rejections;
 * match semantics per type (subdomains yes, siblings no, IPs and URLs exact). */
#include "cs_test.h"
#include "cs_correlate.h"

typedef struct {
	const char *hits[8];
	size_t cnt;
} hits_t;

static int on_hit(void *opaque, const cs_corr_hit_t *hit) {
	hits_t *h = opaque;
	if (h->cnt < 8)
		h->hits[h->cnt++] = hit->ind->value;
	return 0;
}

static int match(const cs_corr_db_t *db, cs_corr_scratch_t *scr, cs_obs_type_t type, const char *v,
		 hits_t *h) {
	cs_obs_t obs = {type, CS_OBS_ROLE_DST, v, strlen(v)};
	h->cnt = 0;
	return cs_corr_match(db, scr, &obs, on_hit, h);
}

int cs_test_0004(void) {
	char path[512], errstr[512];
	cs_corr_db_t *db;
	cs_corr_scratch_t *scr;
	hits_t h;
	const char *shared = getenv("CS_SHARED_DATA");

	snprintf(path, sizeof(path), "%s/list.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path,
					  "# a comment\n"
					  "evil.eu\n"                 /* 2 */
					  "Bad-Actor.example.  # inline comment\n"
					  "198.51.100.7\n"            /* 4 */
					  "2001:DB8::66\n"            /* 5 */
					  "http://Evil.EU:80/payload.bin\n" /* 6 */
					  "\n"
					  "EVIL.EU\n"                 /* 8: duplicate of line 2 */
					  "com\n"                     /* 9: rejected, too broad */
					  "198.51.100.9:8080\n"       /* 10: rejected, host:port */
					  "evil.eu/gate.php\n"        /* 11: rejected, path */
					  "not a value\n"             /* 12: rejected */
					  "a.b.c.evil.example\n"         /* 13 */
					  "re:powershell\\s+-enc\n"     /* 14: a pattern over text and URLs */
					  "re:(unclosed\n"               /* 15: rejected by Hyperscan */
					  "re:.*\n"                      /* 16: rejected, matches everything */
					  "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\n" /* 17 */
					  "198.51.100.0/24\n"            /* 18: CIDR */
					  "10.0.0.0/8\n"                 /* 19 */
					  "10.1.255.255/16\n"            /* 20: host bits masked -> 10.1.0.0/16 */
					  "2001:DB8:ABCD::/48\n"         /* 21 */
					  "0.0.0.0/0\n"                  /* 22: rejected, too broad */
					  "10.1.2.3/33\n"                /* 23: rejected */
					  "203.0.113.9/32\n"),           /* 24: a single address */
		       0);
	db = cs_corr_db_load_list(path, 7, errstr, sizeof(errstr));
	CS_TEST_ASSERT(db, "%s", errstr);
	CS_TEST_EQ_INT(cs_corr_db_count(db), 13);
	CS_TEST_EQ_INT(cs_corr_db_version(db), 7);
	CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 8);
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 6), "list.txt:22:") && strstr(cs_corr_db_reject(db, 6), "too broad"),
		       "%s", cs_corr_db_reject(db, 6));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 7), "list.txt:23:") && strstr(cs_corr_db_reject(db, 7), "CIDR"),
		       "%s", cs_corr_db_reject(db, 7));
	CS_TEST_EQ_STR(cs_corr_db_indicator(db, 10)->value, "10.1.0.0/16");
	CS_TEST_EQ_INT(cs_corr_db_indicator(db, 10)->cidr, 16);
	CS_TEST_EQ_STR(cs_corr_db_indicator(db, 11)->value, "2001:db8:abcd::/48");
	CS_TEST_EQ_STR(cs_corr_db_indicator(db, 12)->value, "203.0.113.9");
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 4), "list.txt:15:") &&
			       strstr(cs_corr_db_reject(db, 4), "rejected by Hyperscan"),
		       "%s", cs_corr_db_reject(db, 4));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 5), "list.txt:16:") && strstr(cs_corr_db_reject(db, 5), "empty"),
		       "%s", cs_corr_db_reject(db, 5));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 0), "list.txt:9:") &&
			       strstr(cs_corr_db_reject(db, 0), "too broad"),
		       "%s", cs_corr_db_reject(db, 0));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 1), "list.txt:10:") &&
			       strstr(cs_corr_db_reject(db, 1), "host:port"),
		       "%s", cs_corr_db_reject(db, 1));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 2), "list.txt:11:"), "%s", cs_corr_db_reject(db, 2));
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 3), "list.txt:12:"), "%s", cs_corr_db_reject(db, 3));
	CS_TEST_EQ_STR(cs_corr_db_indicator(db, 1)->value, "bad-actor.example");
	CS_TEST_ASSERT(strstr(cs_corr_db_indicator(db, 1)->origin, "list.txt:3"), "origin");
	CS_TEST_EQ_STR(cs_corr_db_indicator(db, 3)->value, "2001:db8::66");
	CS_TEST_EQ_STR(cs_corr_db_indicator(db, 4)->value, "http://evil.eu/payload.bin");

	scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
	CS_TEST_ASSERT(scr, "%s", errstr);

	/* domain: itself and any subdomain, never a sibling or a longer label */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "evil.eu", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_STR(h.hits[0], "evil.eu");
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "a.b.evil.eu", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "notevil.eu", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "evil.eu.com", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "evil.e", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "c.evil.example", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0); /* the indicator is a.b.c.evil.example: a parent does not match */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "x.a.b.c.evil.example", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	/* IPs exact, and only against their own type */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, "198.51.100.7", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, "198.51.100.70", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1); /* not 198.51.100.7, but inside 198.51.100.0/24 (line 18) */
	CS_TEST_EQ_STR(h.hits[0], "198.51.100.0/24");
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, "8.198.51.100.7", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "198.51.100.7", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV6, "2001:db8::66", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	/* URLs exact after normalization */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, "http://evil.eu/payload.bin", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, "http://evil.eu/payload.bin?x=1", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	/* patterns over text and URLs; digests exact */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "cmd /c powershell  -enc SQBFAFgA", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_STR(h.hits[0], "powershell\\s+-enc");
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_URL, "http://x.eu/?c=powershell%20-enc", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0); /* the URL carries %20, not white space */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "powershell.exe", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "evil.eu.evil.eu", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1); /* the parent evil.eu */
	/* CIDR: the longest containing prefix wins; an exact address beats any prefix */
	{
		static const struct {
			cs_obs_type_t t;
			const char *obs, *hit;
		} cidr[] = {
			{CS_OBS_IPV4, "10.1.2.3", "10.1.0.0/16"},
			{CS_OBS_IPV4, "10.2.0.1", "10.0.0.0/8"},
			{CS_OBS_IPV4, "10.255.255.255", "10.0.0.0/8"},
			{CS_OBS_IPV4, "11.0.0.0", NULL},
			{CS_OBS_IPV4, "9.255.255.255", NULL},
			{CS_OBS_IPV4, "198.51.100.0", "198.51.100.0/24"},
			{CS_OBS_IPV4, "198.51.100.255", "198.51.100.0/24"},
			{CS_OBS_IPV4, "198.51.101.0", NULL},
			{CS_OBS_IPV4, "198.51.100.7", "198.51.100.7"}, /* exact, not the /24 */
			{CS_OBS_IPV4, "203.0.113.9", "203.0.113.9"},
			{CS_OBS_IPV6, "2001:db8:abcd:ffff::5", "2001:db8:abcd::/48"},
			{CS_OBS_IPV6, "2001:db8:abce::1", NULL},
		};
		for (size_t i = 0; i < CS_ARRAY_SIZE(cidr); i++) {
			CS_TEST_EQ_INT(match(db, scr, cidr[i].t, cidr[i].obs, &h), 0);
			CS_TEST_ASSERT(h.cnt == (cidr[i].hit ? 1u : 0u), "%s: %zu hits", cidr[i].obs, h.cnt);
			if (cidr[i].hit)
				CS_TEST_EQ_STR(h.hits[0], cidr[i].hit);
		}
	}
	/* a value with a newline must not match through '$' semantics */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "evil.eu\n", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	cs_corr_scratch_destroy(scr);
	cs_corr_db_destroy(db);

	/* a set of prefixes only (no exact value) still matches (found by fuzz-indicators) */
	CS_TEST_EQ_INT(cs_test_write_file(path, "10.0.0.0/8\n2001:db8::/32\n"), 0);
	CS_TEST_ASSERT((db = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_ASSERT((scr = cs_corr_scratch_new(db, errstr, sizeof(errstr))), "%s", errstr);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV4, "10.9.8.7", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_IPV6, "2001:db8:1::1", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	cs_corr_scratch_destroy(scr);
	cs_corr_db_destroy(db);

	/* a file with nothing valid is an error naming the first rejection */
	CS_TEST_EQ_INT(cs_test_write_file(path, "# only junk\nlocalhost\n"), 0);
	CS_TEST_ASSERT(!cs_corr_db_load_list(path, 1, errstr, sizeof(errstr)), "loaded junk");
	CS_TEST_ASSERT(strstr(errstr, "no valid indicator") && strstr(errstr, "list.txt:2:"), "%s", errstr);
	CS_TEST_ASSERT(!cs_corr_db_load_list("/nonexistent/x.txt", 1, errstr, sizeof(errstr)), "loaded");
	CS_TEST_ASSERT(strstr(errstr, "No such file"), "%s", errstr);

	/* a real feed: maltrail's ipinfo trail (counted independently: 292 domains,
	 * 1 IP, 4 URLs, 1 duplicate, 8 host/path lines that plain lists do not take) */
	/* patterns with their flags: re/FLAGS:REGEX, lit:TEXT, lit/i:TEXT; a bad flag is rejected */
	snprintf(path, sizeof(path), "%s/patterns.txt", cs_test_tmpdir());
	CS_TEST_EQ_INT(cs_test_write_file(path, "re/i:mimikatz\\.exe\n"         /* 1: any case */
						"re:Invoke-Expression\n"       /* 2: case as written */
						"lit:/wp-admin/admin.php?x=(1)\n" /* 3: literal, metacharacters and all */
						"lit/i:User-Agent: EvilBot\n"  /* 4: literal, any case */
						"re/q:abc\n"                   /* 5: rejected, unknown flag */
						"re/m:^rundll32 \n"),          /* 6: multi-line anchor */
		       0);
	db = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr));
	CS_TEST_ASSERT(db, "%s", errstr);
	CS_TEST_EQ_INT(cs_corr_db_count(db), 5);
	CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 1);
	CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, 0), "patterns.txt:5:") &&
			       strstr(cs_corr_db_reject(db, 0), "unknown pattern flag"),
		       "%s", cs_corr_db_reject(db, 0));
	CS_TEST_EQ_STR(cs_corr_db_indicator(db, 0)->value, "(?i)mimikatz\\.exe");
	scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
	CS_TEST_ASSERT(scr, "%s", errstr);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "C:\\Temp\\MIMIKATZ.EXE privilege::debug", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "mimikatzXexe", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "powershell invoke-expression", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "powershell Invoke-Expression", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "GET /wp-admin/admin.php?x=(1)&y", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "GET /wp-admin/adminXphp?x=1", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0); /* '.', '?', '(' taken literally */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "user-agent: evilbot/2.0", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1);
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "cmd.exe /c x\nrundll32 shell32.dll", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 1); /* ^ after a newline */
	CS_TEST_EQ_INT(match(db, scr, CS_OBS_TEXT, "cmd.exe /c rundll32 shell32.dll", &h), 0);
	CS_TEST_EQ_INT(h.cnt, 0);
	cs_corr_scratch_destroy(scr);
	cs_corr_db_destroy(db);

	if (shared && *shared) {
		snprintf(path, sizeof(path), "%s/indicators/maltrail/trails/static/suspicious/ipinfo.txt", shared);
		db = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr));
		CS_TEST_ASSERT(db, "%s", errstr);
		CS_TEST_EQ_INT(cs_corr_db_count(db), 297);
		CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 8);
		for (size_t i = 0; i < cs_corr_db_reject_count(db); i++)
			CS_TEST_ASSERT(strstr(cs_corr_db_reject(db, i), "host/path"), "%s", cs_corr_db_reject(db, i));
		scr = cs_corr_scratch_new(db, errstr, sizeof(errstr));
		CS_TEST_ASSERT(scr, "%s", errstr);
		/* l2.io is in the Suricata sample's TLS SNI (SOURCES.md overlap) */
		CS_TEST_EQ_INT(match(db, scr, CS_OBS_DOMAIN, "l2.io", &h), 0);
		CS_TEST_EQ_INT(h.cnt, 1);
		cs_corr_scratch_destroy(scr);
		cs_corr_db_destroy(db);

		snprintf(path, sizeof(path), "%s/indicators/threatfox-ioc-ips/ips.txt", shared);
		db = cs_corr_db_load_list(path, 1, errstr, sizeof(errstr));
		CS_TEST_ASSERT(db, "%s", errstr);
		CS_TEST_EQ_INT(cs_corr_db_count(db), 19863); /* 19,862 newlines, the last line has none */
		CS_TEST_EQ_INT(cs_corr_db_reject_count(db), 0);
		cs_corr_db_destroy(db);
	} else {
		CS_TEST_SAY("CS_SHARED_DATA not set: real-feed part not run");
	}
	return 0;
}
