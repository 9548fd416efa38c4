/*
 * libFuzzer target: what a situation report makes of any roll-up contents.
 * Each input line is "<bucket>\t<count>\t<field>" (bucket: an index into the
 * period and the one before); fields are read as cshield-report reads the
 * roll-up hashes, participants and indicators are named by the fields. Every
 * edition (all five audiences) is rendered in every format: no crash, an
 * error for every refused field, and the JSON edition is JSON (jansson).
 * A line "E<tlp 0-4>\t<json>" is an escalation stream entry (any JSON): kept,
 * refused with a reason, or outside the period; the draft early warnings are
 * rendered too, their JSON lines JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cs_common.h"
#include "cs_keys.h"
#include "cs_report_sit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CS__T0 1795910400LL
#define CS__NB 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char *buf, *line, *save = NULL, errstr[256], org[80] = "";
	cs_report_sit_t *s;
	int64_t none[CS_TLP__CNT] = {-1, -1, -1, -1, -1}, first[CS_TLP__CNT] = {CS__T0 - 7200, -1, -1, -1, -1};

	if (size > 65536 || !(buf = malloc(size + 1)))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (!(s = cs_report_sit_new(CS__T0, CS__T0 + CS__NB * 3600, 3600))) {
		free(buf);
		return 0;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		cs_keys_roll_t r;
		long long b, n;
		if (line[0] == 'E' && line[1] >= '0' && line[1] <= '4' && line[2] == '\t') {
			errstr[0] = '\0';
			if (cs_report_sit_add_esc(s, (cs_tlp_t)(line[1] - '0'), line + 3, errstr, sizeof(errstr)) && !errstr[0])
				__builtin_trap();
			continue;
		}
		if (!t2)
			continue;
		b = atoll(line) % (2 * CS__NB);
		n = atoll(t1 + 1);
		errstr[0] = '\0';
		if (cs_report_sit_add(s, CS__T0 + (b - CS__NB) * 3600, t2 + 1, n, errstr, sizeof(errstr)) && !errstr[0])
			__builtin_trap(); /* every refusal says why */
		if (!cs_keys_roll_parse(t2 + 1, &r) && r.org_len < sizeof(org)) {
			/* its participant and its indicator exist too, under the field's own labels */
			snprintf(org, sizeof(org), "%.*s", (int)r.org_len, r.org);
			cs_report_sit_add_part(s, org, org, "SOC", org[0] & 1 ? "LU" : "DE", "energy", r.tlp, CS__T0);
			if (r.value)
				cs_report_sit_add_ind(s, r.value, r.value[0] & 1 ? "domain" : "pattern", r.tlp, org, "a,b", 50,
						      first, none);
		}
	}
	for (int a = 0; a < CS_TLP__CNT; a++) {
		cs_report_ed_opts_t o = {(cs_tlp_t)a, org[0] ? org : "hub", "hub", NULL, 2, 5, 3600, CS__T0 + 3600};
		cs_report_ed_t *ed = cs_report_ed_new(s, &o, errstr, sizeof(errstr));
		char *out = NULL;
		size_t len = 0;
		FILE *fp;
		json_t *j;
		if (!ed) {
			if (!errstr[0])
				__builtin_trap();
			continue;
		}
		if ((fp = fopen("/dev/null", "w"))) {
			cs_report_ed_md(ed, fp);
			cs_report_ed_html(ed, fp);
			cs_report_ed_stix(ed, fp);
			cs_report_ed_early_warnings(ed, fp, 1);
			fclose(fp);
		}
		if ((fp = open_memstream(&out, &len))) {
			cs_report_ed_early_warnings(ed, fp, 0);
			fclose(fp);
			for (char *l = out, *e; l && *l; l = e ? e + 1 : NULL) {
				e = strchr(l, '\n');
				if (!(j = json_loadb(l, e ? (size_t)(e - l) : strlen(l), 0, NULL)))
					__builtin_trap(); /* each draft is one JSON object */
				json_decref(j);
			}
			free(out);
			out = NULL;
			len = 0;
		}
		if ((fp = open_memstream(&out, &len))) {
			cs_report_ed_json(ed, fp);
			fclose(fp);
			if (!(j = json_loadb(out, len, 0, NULL)))
				__builtin_trap(); /* the JSON edition is JSON, whatever the fields held */
			{
				const char *t = json_string_value(json_object_get(j, "tlp"));
				if (!t || cs_tlp_parse(t, strlen(t)) > a)
					__builtin_trap(); /* labelled above its audience */
			}
			json_decref(j);
			free(out);
		}
		cs_report_ed_destroy(ed);
	}
	cs_report_sit_destroy(s);
	free(buf);
	return 0;
}
