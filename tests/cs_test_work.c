/*
 * cs_test_work.c - the e2e workload. Every event is built from a case whose
 * hits are known by construction, independently of cshield's decoder and
 * engine: exact domain, subdomain, sibling domain (no hit), IP, URL, two
 * indicators in one event, the same IP twice (one hit), timestamps in
 * several offsets or only in the Kafka message, and malformed JSON.
 */
#include <time.h>

#include "cs_test_svc.h"

#define NDOM 10
#define NIP 10

int cs_svc_work_indicators(const char *path) {
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	fprintf(fp, "# e2e indicators\n");
	for (int k = 0; k < NDOM; k++)
		fprintf(fp, "c2-%d.Evil-Test.EU\n", k); /* normalized to lower case */
	for (int k = 0; k < NIP; k++)
		fprintf(fp, "203.0.113.%d\n", 10 + k);
	fprintf(fp, "http://dl.bad-test.org/payload.bin\n");
	fprintf(fp, "bad line here\n"); /* rejected, must not stop the load */
	return fclose(fp);
}

static unsigned cs__rnd(unsigned *s) {
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

/* "2026-11-29T04:14:20.123+01:00" style, in the given offset (minutes). */
static void cs__ts(char *buf, size_t size, int64_t ms, int off_min, int style) {
	time_t t = (time_t)(ms / 1000) + off_min * 60;
	struct tm tm;
	char base[32];
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (off_min == 0 && style == 0)
		snprintf(buf, size, "%s.%03dZ", base, (int)(ms % 1000));
	else
		snprintf(buf, size, "%s.%03d000%c%02d%s%02d", base, (int)(ms % 1000), off_min < 0 ? '-' : '+',
			 abs(off_min) / 60, style ? ":" : "", abs(off_min) % 60);
}

int cs_svc_work_produce(const char *topic, int partitions, long n, unsigned seed, int64_t t0,
			cs_svc_counts_t *exp, long *malformed) {
	return cs_svc_work_produce_arriving(topic, partitions, n, seed, t0, 0, 0, exp, malformed, NULL);
}

int cs_svc_work_produce_arriving(const char *topic, int partitions, long n, unsigned seed, int64_t t0,
				 int64_t arrival_ms, int64_t grace_s, cs_svc_counts_t *exp, long *malformed, long *late) {
	rd_kafka_t *rk = NULL;
	unsigned s = seed;
	char buf[2048], ts[64], dom[128], ip[32];
	static const int offs[] = {0, 60, -300, 120, 330};

	for (long i = 0; i < n; i++) {
		int64_t ms = t0 * 1000 + (int64_t)(cs__rnd(&s) % 300000);
		int64_t window = (ms / 1000) / 60 * 60;
		int kase = (int)(cs__rnd(&s) % 20), k = (int)(cs__rnd(&s) % NDOM), j = (int)(cs__rnd(&s) % NIP);
		int off = offs[cs__rnd(&s) % 5], style = (int)(cs__rnd(&s) % 2);
		int64_t kts = arrival_ms;
		int len;

		if (arrival_ms > 0 && kase == 8) {
			ms = arrival_ms; /* no time in the event: its arrival is its time */
			window = (ms / 1000) / 60 * 60;
		} else if (grace_s > 0 && kase != 9 && ms < arrival_ms - grace_s * 1000) {
			window = (arrival_ms / 1000) / 60 * 60; /* late: counted when it arrived */
			if (late)
				(*late)++;
		}

		if (i == 0 || i == n / 2) {
			if (rk && cs_svc_producer_close(rk))
				return -1;
			if (!(rk = cs_svc_producer(i == 0 ? "lz4" : "zstd")))
				return -1;
		}
		cs__ts(ts, sizeof(ts), ms, off, style);
		snprintf(dom, sizeof(dom), "c2-%d.evil-test.eu", k);
		snprintf(ip, sizeof(ip), "203.0.113.%d", 10 + j);
		switch (kase) {
		case 0: /* exact domain, upper case and a trailing dot in the event */
			len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"src_ip\":\"10.0.0.%d\",\"dest_ip\":\"10.0.0.1\",\"dns\":{\"rrname\":\"C2-%d.EVIL-test.eu.\"}}",
				       ts, k, k);
			cs_svc_counts_add(exp, window, dom, 1);
			break;
		case 1: /* subdomain in TLS SNI */
			len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"event_type\":\"tls\",\"src_ip\":\"10.0.1.2\",\"dest_ip\":\"198.18.0.%d\",\"tls\":{\"sni\":\"cdn.x.%s\"}}",
				       ts, j, dom);
			cs_svc_counts_add(exp, window, dom, 1);
			break;
		case 2: /* a sibling: no hit */
			len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"src_ip\":\"10.0.0.3\",\"dns\":{\"rrname\":\"notc2-%d.evil-test.eu\"}}",
				       ts, k);
			break;
		case 3: /* IP indicator as destination, ECS field names */
			len = snprintf(buf, sizeof(buf), "{\"@timestamp\":\"%s\",\"source\":{\"ip\":\"10.1.0.4\"},\"destination\":{\"ip\":\"%s\"},\"event\":{\"kind\":\"alert\"}}",
				       ts, ip);
			cs_svc_counts_add(exp, window, ip, 1);
			break;
		case 4: /* URL indicator from http.hostname + http.url, escaped slashes */
			len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"event_type\":\"http\",\"src_ip\":\"10.0.0.9\",\"dest_ip\":\"198.18.1.1\",\"http\":{\"hostname\":\"DL.bad-test.org\",\"url\":\"\\/payload.bin\"}}",
				       ts);
			cs_svc_counts_add(exp, window, "http://dl.bad-test.org/payload.bin", 1);
			break;
		case 5: /* two indicators in one event */
			len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"src_ip\":\"10.0.0.5\",\"dest_ip\":\"%s\",\"dns\":{\"rrname\":\"%s\"}}",
				       ts, ip, dom);
			cs_svc_counts_add(exp, window, dom, 1);
			cs_svc_counts_add(exp, window, ip, 1);
			break;
		case 6: /* the same IP twice: one hit */
			len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"event_type\":\"flow\",\"src_ip\":\"%s\",\"dest_ip\":\"%s\"}",
				       ts, ip, ip);
			cs_svc_counts_add(exp, window, ip, 1);
			break;
		case 7: /* Zeek JSON, epoch seconds */
			len = snprintf(buf, sizeof(buf), "{\"ts\":%lld.%03d,\"uid\":\"C%ld\",\"id.orig_h\":\"10.2.0.1\",\"id.resp_h\":\"%s\",\"query\":\"www.%s\"}",
				       (long long)(ms / 1000), (int)(ms % 1000), i, ip, dom);
			cs_svc_counts_add(exp, window, dom, 1);
			cs_svc_counts_add(exp, window, ip, 1);
			break;
		case 8: /* no time in the event: the Kafka timestamp counts */
			len = snprintf(buf, sizeof(buf), "{\"event_type\":\"dns\",\"src_ip\":\"10.0.0.6\",\"dns\":{\"rrname\":\"%s\"}}", dom);
			kts = ms;
			cs_svc_counts_add(exp, window, dom, 1);
			break;
		case 9: /* malformed */
			len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"dns\":{\"rrname\":\"%s\"", ts, dom);
			(*malformed)++;
			break;
		default: /* background: no indicator */
			len = snprintf(buf, sizeof(buf), "{\"timestamp\":\"%s\",\"event_type\":\"dns\",\"src_ip\":\"10.0.%d.%d\",\"dest_ip\":\"10.0.0.1\",\"dns\":{\"rrname\":\"www.example-%d.com\"}}",
				       ts, k, j, kase);
			break;
		}
		if (cs_svc_produce(rk, topic, (int)(i % partitions), buf, (size_t)len, kts)) {
			cs_svc_producer_close(rk);
			return -1;
		}
	}
	return rk ? cs_svc_producer_close(rk) : 0;
}
