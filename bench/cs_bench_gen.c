/*
 * cs_bench_gen.c - the synthetic event and indicator generator.
 * DESIGN: xorshift PRNG seeded by the caller, so the same seed gives the same
 * bytes; one generator per thread. Shapes and sizes follow the real Suricata
 * EVE samples in ../shared/data/events.
 */
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "cs_common.h"
#include "cs_bench.h"

struct cs_bench_gen_s {
	cs_bench_gen_opts_t o;
	uint64_t rng;
	char (*iocs)[80];    /* [indicators] */
	unsigned char *ioc_kind; /* 0 domain, 1 IP, 2 sha256, 3 URL, 4 pattern */
	uint64_t flow_id;
};

static const char *cs__benign[] = {
	"www.google.com", "update.microsoft.com", "www.bing.com", "login.microsoftonline.com",
	"outlook.office365.com", "ocsp.digicert.com", "www.wikipedia.org", "cdn.jsdelivr.net",
	"fonts.googleapis.com", "api.github.com", "teams.microsoft.com", "www.europa.eu",
	"time.windows.com", "detectportal.firefox.com", "ctldl.windowsupdate.com",
	"clients4.google.com", "s3.amazonaws.com", "www.linkedin.com", "static.xx.fbcdn.net",
	"safebrowsing.googleapis.com",
};
static const char *cs__tlds[] = {"com", "net", "org", "ru", "top", "xyz", "info", "biz", "eu", "cn"};
static const char *cs__sigs[] = {
	"ET MALWARE Observed Malicious SSL Cert (QakBot)",
	"ET POLICY Observed IP Lookup Domain (l2 .io in TLS SNI)",
	"ET INFO Observed DNS Query to .top TLD",
	"ET TROJAN Possible Zbot Activity Common Download Struct",
	"ET SCAN Suspicious inbound to MSSQL port 1433",
};

static uint64_t cs__rnd(cs_bench_gen_t *g) {
	uint64_t x = g->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return g->rng = x;
}

static double cs__unif(cs_bench_gen_t *g) {
	return (double)(cs__rnd(g) >> 11) / 9007199254740992.0;
}

/* Zipf-like rank in [0, n): small ranks much more frequent. */
static size_t cs__zipf(cs_bench_gen_t *g, size_t n) {
	double u = cs__unif(g);
	size_t r = (size_t)(pow((double)n + 1.0, u)) - 1;
	return r < n ? r : n - 1;
}

static const struct {
	const char *id, *name, *kind, *ms, *sector, *tlp, *key;
} cs__orgs[] = {
	{"de-national-csirt", "National CSIRT DE", "CSIRT", "DE", "government", "amber", "de-csirt"},
	{"fr-national-csirt", "National CSIRT FR", "CSIRT", "FR", "government", "amber", "fr-csirt"},
	{"it-national-csirt", "National CSIRT IT", "CSIRT", "IT", "government", "amber", "it-csirt"},
	{"es-national-csirt", "National CSIRT ES", "CSIRT", "ES", "government", "amber", "es-csirt"},
	{"nl-energy-soc", "Energy sector SOC NL", "SOC", "NL", "energy", "amber", "nl-energy"},
	{"pl-national-csirt", "National CSIRT PL", "CSIRT", "PL", "government", "green", "pl-csirt"},
	{"be-finance-cert", "Financial sector CERT BE", "CERT", "BE", "finance", "amber+strict", "be-fin"},
	{"lu-national-csirt", "National CSIRT LU", "CSIRT", "LU", "government", "green", "lu-csirt"},
	{"at-health-soc", "Hospital group SOC AT", "SOC", "AT", "health", "red", "at-health"},
	{"fi-telecom-soc", "Telecom operator SOC FI", "private", "FI", "telecom", "amber", "fi-telco"},
	{"ee-national-csirt", "National CSIRT EE", "CSIRT", "EE", "government", "clear", "ee-csirt"},
	{"ie-transport-soc", "Transport operator SOC IE", "private", "IE", "transport", "amber", "ie-transport"},
	{"eu-institutions-cert", "CERT for the Union institutions", "CERT", "EU", "government", "amber", "eu-cert"},
};

void cs_bench_gen_write_participants(FILE *fp) {
	fprintf(fp, "{\"participants\": [\n");
	for (size_t i = 0; i < CS_ARRAY_SIZE(cs__orgs); i++)
		fprintf(fp,
			"  {\"id\": \"%s\", \"name\": \"%s\", \"kind\": \"%s\", \"member_state\": \"%s\", "
			"\"sector\": \"%s\", \"tlp\": \"%s\", \"keys\": [\"%s\"]}%s\n",
			cs__orgs[i].id, cs__orgs[i].name, cs__orgs[i].kind, cs__orgs[i].ms, cs__orgs[i].sector, cs__orgs[i].tlp,
			cs__orgs[i].key, i + 1 < CS_ARRAY_SIZE(cs__orgs) ? "," : "");
	fprintf(fp, "]}\n");
}

cs_bench_gen_t *cs_bench_gen_new(const cs_bench_gen_opts_t *opts) {
	cs_bench_gen_t *g = cs_calloc(1, sizeof(*g));
	size_t n = opts->indicators ? opts->indicators : 1;

	if (!g)
		return NULL;
	g->o = *opts;
	g->rng = opts->seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
	if (!g->rng)
		g->rng = 1;
	g->iocs = cs_calloc(n, sizeof(*g->iocs));
	g->ioc_kind = cs_calloc(n, sizeof(*g->ioc_kind));
	if (!g->iocs || !g->ioc_kind) {
		cs_bench_gen_destroy(g);
		return NULL;
	}
	for (size_t i = 0; i < opts->indicators; i++) {
		/* the mix of shared feeds: 70% exact (40% domains, 20% IPs, 10% sha256),
		 * 29.5% URLs, 0.5% patterns */
		unsigned mix = (unsigned)(cs__rnd(g) % 1000);
		g->ioc_kind[i] = mix < 400 ? 0 : mix < 600 ? 1 : mix < 700 ? 2 : mix < 995 ? 3 : 4;
		if (g->ioc_kind[i] == 4) {
			snprintf(g->iocs[i], sizeof(g->iocs[i]), "re:/download/update-%u\\.bin\\?id=%zu(&|$)",
				 (unsigned)(cs__rnd(g) % 100), 100000 + i);
		} else if (g->ioc_kind[i] == 2) {
			for (int k = 0; k < 64; k++)
				g->iocs[i][k] = "0123456789abcdef"[cs__rnd(g) % 16];
			g->iocs[i][64] = '\0';
		} else if (g->ioc_kind[i] == 3) {
			char label[24];
			size_t len = 5 + cs__rnd(g) % 8;
			for (size_t k = 0; k < len; k++)
				label[k] = "abcdefghijklmnopqrstuvwxyz0123456789"[cs__rnd(g) % 36];
			label[len] = '\0';
			snprintf(g->iocs[i], sizeof(g->iocs[i]), "http://%s-%zu.%s/%s.php", label, i,
				 cs__tlds[cs__rnd(g) % CS_ARRAY_SIZE(cs__tlds)], cs__rnd(g) % 2 ? "gate" : "load");
		} else if (g->ioc_kind[i] == 1) {
			/* public-looking IPv4 outside private and reserved ranges */
			snprintf(g->iocs[i], sizeof(g->iocs[i]), "%u.%u.%u.%u",
				 (unsigned)(45 + cs__rnd(g) % 140), (unsigned)(cs__rnd(g) % 256),
				 (unsigned)(cs__rnd(g) % 256), (unsigned)(1 + cs__rnd(g) % 254));
		} else {
			char label[24];
			size_t len = 6 + cs__rnd(g) % 10;
			for (size_t k = 0; k < len; k++)
				label[k] = "abcdefghijklmnopqrstuvwxyz0123456789"[cs__rnd(g) % 36];
			label[len] = '\0';
			snprintf(g->iocs[i], sizeof(g->iocs[i]), "%s-%zu.%s", label, i,
				 cs__tlds[cs__rnd(g) % CS_ARRAY_SIZE(cs__tlds)]);
		}
	}
	return g;
}

void cs_bench_gen_destroy(cs_bench_gen_t *g) {
	if (!g)
		return;
	cs_free(g->iocs);
	cs_free(g->ioc_kind);
	cs_free(g);
}

void cs_bench_gen_write_indicators(const cs_bench_gen_t *g, FILE *fp) {
	fprintf(fp, "# cshield synthetic indicator set: %zu indicators, seed %llu\n",
		g->o.indicators, (unsigned long long)g->o.seed);
	for (size_t i = 0; i < g->o.indicators; i++)
		fprintf(fp, "%s\n", g->iocs[i]);
}

static void cs__ip(cs_bench_gen_t *g, char *buf, size_t size, int internal) {
	if (internal)
		snprintf(buf, size, "10.%u.%u.%u", (unsigned)(cs__rnd(g) % 4),
			 (unsigned)(cs__rnd(g) % 256), (unsigned)(1 + cs__rnd(g) % 254));
	else {
		/* a Zipf-ranked pool of 5000 public servers */
		uint64_t r = (cs__zipf(g, 5000) + 1) * 2654435761u;
		snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(13 + r % 10), (unsigned)((r >> 8) % 256),
			 (unsigned)((r >> 16) % 256), (unsigned)(1 + (r >> 24) % 254));
	}
}

const char *cs_bench_fmt2str(cs_bench_fmt_t fmt) {
	static const char *names[] = {"eve", "ecs", "zeek", "ocsf", "cef"};
	return (unsigned)fmt < CS_BENCH_FMT__CNT ? names[fmt] : "?";
}

int cs_bench_fmt_parse(const char *s) {
	for (int f = 0; f < CS_BENCH_FMT__CNT; f++)
		if (!strcmp(s, cs_bench_fmt2str((cs_bench_fmt_t)f)))
			return f;
	return -1;
}

const char *cs_bench_gen_org(cs_bench_gen_t *g) {
	/* one event in 50 from a sensor nobody registered: counted as "unregistered" */
	if (cs__rnd(g) % 50 == 0)
		return "sensor-unknown";
	return cs__orgs[cs__zipf(g, CS_ARRAY_SIZE(cs__orgs))].key;
}

size_t cs_bench_gen_event(cs_bench_gen_t *g, char *buf, size_t size) {
	return cs_bench_gen_event_fmt(g, CS_BENCH_FMT_EVE, buf, size);
}

/* The other formats, from the same logical event. */
static int cs__other(cs_bench_gen_t *g, cs_bench_fmt_t fmt, int kind, const char *ts, unsigned usec, int64_t t,
		     const char *src, const char *dst, const char *host, const char *path, const char *hash, char *buf,
		     size_t size) {
	unsigned sport = (unsigned)(1024 + cs__rnd(g) % 60000), qid = (unsigned)(cs__rnd(g) % 65536);
	unsigned long long fid = (unsigned long long)g->flow_id;
	const char *sig = cs__sigs[cs__rnd(g) % CS_ARRAY_SIZE(cs__sigs)];
	int dns = kind <= 1, tls = kind == 2, http = kind == 3, alert = kind >= 8;

	/* file hashes: EVE fileinfo, ECS file.hash, Zeek files.log, OCSF file.hashes, CEF fileHash */

	switch (fmt) {
	case CS_BENCH_FMT_ECS:
		return snprintf(buf, size,
				"{\"@timestamp\":\"%s.%03uZ\",\"ecs\":{\"version\":\"8.11.0\"},\"event\":{\"kind\":\"%s\",\"category\":[\"network\"],\"dataset\":\"suricata.eve\",\"severity\":%d},"
				"\"source\":{\"ip\":\"%s\",\"port\":%u},\"destination\":{\"ip\":\"%s\",\"port\":%d},\"network\":{\"transport\":\"%s\",\"community_id\":\"1:%016llx\"},"
				"\"observer\":{\"vendor\":\"OISF\",\"product\":\"Suricata\",\"hostname\":\"ids-01\"}%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s}",
				ts, usec / 1000, alert ? "alert" : "event", alert ? 1 : 0, src, sport, dst,
				dns ? 53 : http ? 80 : 443, dns ? "udp" : "tcp", fid,
				dns ? ",\"dns\":{\"type\":\"query\",\"question\":{\"name\":\"" : "", dns ? host : "",
				dns ? "\",\"type\":\"A\"}}" : "",
				tls ? ",\"tls\":{\"version\":\"1.3\",\"client\":{\"server_name\":\"" : http ? ",\"url\":{\"domain\":\"" : "",
				tls || http ? host : "",
				tls ? "\"}}" : http ? "\",\"path\":\"" : "", http ? path : "",
				http ? "\",\"original\":\"" : "", http ? path : "",
				http ? "\"},\"user_agent\":{\"original\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36\"}" : "",
				alert ? ",\"rule\":{\"name\":\"" : "", alert ? sig : "", alert ? "\"}" : "",
				*hash ? ",\"file\":{\"name\":\"update.bin\",\"hash\":{\"sha256\":\"" : "", hash, *hash ? "\"}}" : "");
	case CS_BENCH_FMT_ZEEK:
		if (dns)
			return snprintf(buf, size,
					"{\"ts\":%lld.%06u,\"uid\":\"C%08llx\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id.resp_h\":\"%s\",\"id.resp_p\":53,"
					"\"proto\":\"udp\",\"trans_id\":%u,\"rtt\":0.0213,\"query\":\"%s\",\"qclass\":1,\"qclass_name\":\"C_INTERNET\",\"qtype\":1,"
					"\"qtype_name\":\"A\",\"rcode\":0,\"rcode_name\":\"NOERROR\",\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":true,\"Z\":0,"
					"\"answers\":[\"93.184.216.34\"],\"TTLs\":[300.0],\"rejected\":false}",
					(long long)t, usec, fid, src, sport, dst, qid, host);
		if (tls)
			return snprintf(buf, size,
					"{\"ts\":%lld.%06u,\"uid\":\"C%08llx\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id.resp_h\":\"%s\",\"id.resp_p\":443,"
					"\"version\":\"TLSv13\",\"cipher\":\"TLS_AES_128_GCM_SHA256\",\"curve\":\"x25519\",\"server_name\":\"%s\",\"resumed\":false,"
					"\"established\":true,\"ssl_history\":\"CsiI\"}",
					(long long)t, usec, fid, src, sport, dst, host);
		if (http && *hash)
			return snprintf(buf, size,
					"{\"ts\":%lld.%06u,\"fuid\":\"F%08llx\",\"uid\":\"C%08llx\",\"id.orig_h\":\"%s\",\"id.orig_p\":80,"
					"\"id.resp_h\":\"%s\",\"id.resp_p\":%u,\"source\":\"HTTP\",\"depth\":0,\"analyzers\":[\"SHA256\"],"
					"\"mime_type\":\"application/x-dosexec\",\"filename\":\"update.bin\",\"duration\":0.0021,\"is_orig\":false,"
					"\"seen_bytes\":482304,\"total_bytes\":482304,\"missing_bytes\":0,\"overflow_bytes\":0,\"timedout\":false,"
					"\"sha256\":\"%s\"}",
					(long long)t, usec, fid, fid, dst, src, sport, hash);
		if (http)
			return snprintf(buf, size,
					"{\"ts\":%lld.%06u,\"uid\":\"C%08llx\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id.resp_h\":\"%s\",\"id.resp_p\":80,"
					"\"trans_depth\":1,\"method\":\"GET\",\"host\":\"%s\",\"uri\":\"%s\",\"version\":\"1.1\","
					"\"user_agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36\",\"request_body_len\":0,"
					"\"response_body_len\":%u,\"status_code\":200,\"status_msg\":\"OK\",\"tags\":[],\"resp_mime_types\":[\"application/octet-stream\"]}",
					(long long)t, usec, fid, src, sport, dst, host, path, (unsigned)(cs__rnd(g) % 5000000));
		return snprintf(buf, size,
				"{\"ts\":%lld.%06u,\"uid\":\"C%08llx\",\"id.orig_h\":\"%s\",\"id.orig_p\":%u,\"id.resp_h\":\"%s\",\"id.resp_p\":443,"
				"\"proto\":\"tcp\",\"service\":\"ssl\",\"duration\":%u.%03u,\"orig_bytes\":%u,\"resp_bytes\":%u,\"conn_state\":\"SF\","
				"\"local_orig\":true,\"local_resp\":false,\"missed_bytes\":0,\"history\":\"ShADadFf\",\"orig_pkts\":%u,"
				"\"orig_ip_bytes\":%u,\"resp_pkts\":%u,\"resp_ip_bytes\":%u}",
				(long long)t, usec, fid, src, sport, dst, (unsigned)(cs__rnd(g) % 60), (unsigned)(cs__rnd(g) % 1000),
				(unsigned)(cs__rnd(g) % 40000), (unsigned)(cs__rnd(g) % 400000), (unsigned)(1 + cs__rnd(g) % 40),
				(unsigned)(cs__rnd(g) % 40000), (unsigned)(1 + cs__rnd(g) % 40), (unsigned)(cs__rnd(g) % 400000));
	case CS_BENCH_FMT_OCSF:
		return snprintf(buf, size,
				"{\"metadata\":{\"version\":\"1.3.0\",\"product\":{\"name\":\"Zeek\",\"vendor_name\":\"Zeek\"},\"logged_time\":%lld},"
				"\"category_uid\":4,\"class_uid\":%d,\"class_name\":\"%s\",\"activity_id\":6,\"type_uid\":%d06,\"severity_id\":1,"
				"\"time\":%lld%03u,\"src_endpoint\":{\"ip\":\"%s\",\"port\":%u},\"dst_endpoint\":{\"ip\":\"%s\",\"port\":%d},"
				"\"connection_info\":{\"uid\":\"C%08llx\",\"protocol_name\":\"%s\",\"direction_id\":2}%s%s%s%s%s%s%s%s%s%s%s}",
				(long long)t, dns ? 4003 : http ? 4002 : 4001, dns ? "DNS Activity" : http ? "HTTP Activity" : "Network Activity",
				dns ? 4003 : http ? 4002 : 4001, (long long)t, usec / 1000, src, sport, dst, dns ? 53 : http ? 80 : 443, fid,
				dns ? "udp" : "tcp",
				dns ? ",\"query\":{\"hostname\":\"" : http || tls ? ",\"http_request\":{\"http_method\":\"GET\",\"url\":{\"hostname\":\"" : "",
				dns || http || tls ? host : "",
				dns ? "\",\"type\":\"A\",\"class\":\"IN\"}" : http || tls ? "\",\"path\":\"" : "",
				http || tls ? path : "", http ? "\",\"url_string\":\"http://" : "", http ? host : "", http ? path : "",
				http || tls ? "\"},\"user_agent\":\"Mozilla/5.0\"}" : "",
				*hash ? ",\"file\":{\"name\":\"update.bin\",\"hashes\":[{\"algorithm_id\":3,\"value\":\"" : "", hash,
				*hash ? "\"}]}" : "");
	case CS_BENCH_FMT_CEF: {
		char mon[8];
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		strftime(mon, sizeof(mon), "%b", &tm);
		return snprintf(buf, size,
				"<134>%s %2d %02d:%02d:%02d fw-01 CEF:0|Forcepoint|NGFW|6.10.1|%s|%s|%d|deviceExternalId=FW node 1 "
				"dvc=10.1.1.40 dvchost=fw-01 src=%s spt=%u dst=%s dpt=%d proto=%d act=%s%s%s%s%s%s%s%s rt=%lld%03u "
				"cs1Label=RuleID cs1=%u.%u msg=%s",
				mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, alert ? "70019" : "70018",
				alert ? "Connection_Discarded" : "Connection_Allowed", alert ? 7 : 0, src, sport, dst,
				dns ? 53 : http ? 80 : 443, dns ? 17 : 6, alert ? "Discard" : "Allow",
				dns || http || tls ? " dhost=" : "", dns || http || tls ? host : "", http ? " request=http://" : "",
				http ? host : "", http ? path : "", *hash ? " fileHash=" : "", hash, (long long)t, usec / 1000,
				(unsigned)(2097152 + cs__rnd(g) % 100), (unsigned)(cs__rnd(g) % 10), alert ? sig : "allowed by policy");
	}
	default:
		return -1;
	}
}

size_t cs_bench_gen_event_fmt(cs_bench_gen_t *g, cs_bench_fmt_t fmt, char *buf, size_t size) {
	char ts[48], src[32], dst[32], host[96], hash[72], path[96];
	int64_t t = g->o.ts_start_s + (int64_t)(cs__rnd(g) % (uint64_t)(g->o.ts_span_s > 0 ? g->o.ts_span_s : 1));
	unsigned usec = (unsigned)(cs__rnd(g) % 1000000);
	time_t tt = (time_t)t;
	struct tm tm;
	int kind = (int)(cs__rnd(g) % 10);
	int hit = g->o.indicators && cs__unif(g) < g->o.hit_rate;
	size_t ioc = hit ? cs__zipf(g, g->o.indicators) : 0;
	int n;

	gmtime_r(&tt, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	cs__ip(g, src, sizeof(src), 1);
	cs__ip(g, dst, sizeof(dst), 0);
	snprintf(host, sizeof(host), "%s", cs__benign[cs__zipf(g, CS_ARRAY_SIZE(cs__benign))]);
	hash[0] = path[0] = '\0';
	if (hit) {
		switch (g->ioc_kind[ioc]) {
		case 1:
			snprintf(dst, sizeof(dst), "%s", g->iocs[ioc]);
			if (kind < 4)
				kind = 6; /* an IP indicator shows up in flow/alert records */
			break;
		case 2:
			snprintf(hash, sizeof(hash), "%s", g->iocs[ioc]);
			kind = 3; /* a file hash in an HTTP download (EVE fileinfo) */
			break;
		case 4: { /* a URL path the pattern matches */
			unsigned num = 0;
			sscanf(g->iocs[ioc], "re:/download/update-%u", &num);
			snprintf(path, sizeof(path), "/download/update-%u.bin?id=%zu", num, 100000 + ioc);
			kind = 3;
			break;
		}
		case 3: {
			const char *h = g->iocs[ioc] + 7, *slash = strchr(h, '/');
			snprintf(host, sizeof(host), "%.*s", (int)(slash - h), h);
			snprintf(path, sizeof(path), "%s", slash);
			kind = 3;
			break;
		}
		default:
			snprintf(host, sizeof(host), "%s%s", cs__rnd(g) % 2 ? "" : "cdn.", g->iocs[ioc]);
			if (kind >= 4) /* a domain shows up in dns, tls and http records; flows and alerts carry none */
				kind = (int)(cs__rnd(g) % 4);
		}
	}
	if (!path[0])
		snprintf(path, sizeof(path), "/download/update-%u.bin?id=%u", (unsigned)(cs__rnd(g) % 100),
			 (unsigned)(cs__rnd(g) % 100000));
	g->flow_id += 1 + cs__rnd(g) % 1000;
	if (fmt != CS_BENCH_FMT_EVE) {
		n = cs__other(g, fmt, kind, ts, usec, t, src, dst, host, path, hash, buf, size);
		if (n < 0)
			return 0;
		return (size_t)n < size ? (size_t)n : size - 1;
	}

#define CS__HDR "{\"timestamp\":\"%s.%06u+0000\",\"flow_id\":%llu,\"in_iface\":\"eth0\",\"event_type\":\"%s\",\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":%u,\"proto\":\"%s\""
#define CS__HARGS(type, dport, proto) ts, usec, (unsigned long long)g->flow_id, type, src, \
	(unsigned)(1024 + cs__rnd(g) % 60000), dst, dport, proto
	switch (kind) {
	case 0:
	case 1:
		n = snprintf(buf, size, CS__HDR ",\"dns\":{\"version\":2,\"type\":\"query\",\"id\":%u,\"rrname\":\"%s\",\"rrtype\":\"A\",\"tx_id\":0,\"opcode\":0}}",
			     CS__HARGS("dns", 53u, "UDP"), (unsigned)(cs__rnd(g) % 65536), host);
		break;
	case 2:
		n = snprintf(buf, size, CS__HDR ",\"tls\":{\"subject\":\"CN=%s\",\"issuerdn\":\"C=US, O=Let's Encrypt, CN=R3\",\"serial\":\"04:A1:%02X:%02X\",\"fingerprint\":\"%02x:%02x:3b:9e:0c:1d:77:aa:41:5e:9f:10:62:c3:8d:4e:2b:77:19:a0\",\"sni\":\"%s\",\"version\":\"TLS 1.3\",\"notbefore\":\"2026-09-01T00:00:00\",\"notafter\":\"2026-11-30T23:59:59\",\"ja3\":{\"hash\":\"e7d705a3286e19ea42f587b344ee6865\"}}}",
			     CS__HARGS("tls", 443u, "TCP"), host, (unsigned)(cs__rnd(g) % 256),
			     (unsigned)(cs__rnd(g) % 256), (unsigned)(cs__rnd(g) % 256),
			     (unsigned)(cs__rnd(g) % 256), host);
		break;
	case 3:
		n = snprintf(buf, size, CS__HDR ",\"tx_id\":0,\"http\":{\"hostname\":\"%s\",\"url\":\"%s\",\"http_user_agent\":\"Mozilla\\/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit\\/537.36 (KHTML, like Gecko) Chrome\\/118.0.0.0 Safari\\/537.36\",\"http_content_type\":\"application\\/octet-stream\",\"http_method\":\"GET\",\"protocol\":\"HTTP\\/1.1\",\"status\":200,\"length\":%u}%s%s%s}",
			     CS__HARGS(hash[0] ? "fileinfo" : "http", 80u, "TCP"), host, path,
			     (unsigned)(cs__rnd(g) % 5000000),
			     hash[0] ? ",\"fileinfo\":{\"filename\":\"update.bin\",\"magic\":\"PE32 executable\",\"state\":\"CLOSED\",\"sha256\":\"" : "",
			     hash, hash[0] ? "\",\"stored\":false,\"size\":482304,\"tx_id\":0}" : "");
		break;
	case 4:
	case 5:
	case 6:
	case 7:
		n = snprintf(buf, size, CS__HDR ",\"app_proto\":\"failed\",\"flow\":{\"pkts_toserver\":%u,\"pkts_toclient\":%u,\"bytes_toserver\":%u,\"bytes_toclient\":%u,\"start\":\"%s.%06u+0000\",\"end\":\"%s.%06u+0000\",\"age\":0,\"state\":\"closed\",\"reason\":\"timeout\",\"alerted\":false},\"tcp\":{\"tcp_flags\":\"1b\",\"syn\":true,\"fin\":true,\"psh\":true,\"ack\":true,\"state\":\"closed\"}}",
			     CS__HARGS("flow", 443u, "TCP"), (unsigned)(1 + cs__rnd(g) % 40),
			     (unsigned)(1 + cs__rnd(g) % 40), (unsigned)(60 + cs__rnd(g) % 40000),
			     (unsigned)(60 + cs__rnd(g) % 400000), ts, usec, ts, usec);
		break;
	default:
		n = snprintf(buf, size, CS__HDR ",\"tx_id\":0,\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":%u,\"rev\":3,\"signature\":\"%s\",\"category\":\"A Network Trojan was detected\",\"severity\":%u},\"app_proto\":\"tls\",\"flow\":{\"pkts_toserver\":4,\"pkts_toclient\":3,\"bytes_toserver\":793,\"bytes_toclient\":343,\"start\":\"%s.%06u+0000\"}}",
			     CS__HARGS("alert", 443u, "TCP"), (unsigned)(2020000 + cs__rnd(g) % 50000),
			     cs__sigs[cs__rnd(g) % CS_ARRAY_SIZE(cs__sigs)], (unsigned)(1 + cs__rnd(g) % 3),
			     ts, usec);
		break;
	}
#undef CS__HDR
#undef CS__HARGS
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}
