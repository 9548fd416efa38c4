/*
 * cs_bench_plot.c - a small SVG line chart writer for cshield-bench --plot.
 * DESIGN: no dependencies; one or two panels side by side, each one series.
 */
#include <stdio.h>

#include "cs_bench.h"

static void cs__panel(FILE *fp, double ox, const cs_bench_series_t *s) {
	const double w = 420, h = 300, l = 70, b = 40, t = 30;
	double xmax = 0, ymax = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->x[i] > xmax)
			xmax = s->x[i];
		if (s->y[i] > ymax)
			ymax = s->y[i];
	}
	if (xmax <= 0)
		xmax = 1;
	if (ymax <= 0)
		ymax = 1;
	ymax *= 1.1;
	fprintf(fp, "<g transform=\"translate(%.0f,0)\">\n", ox);
	fprintf(fp, "<text x=\"%.0f\" y=\"18\" font-size=\"14\" text-anchor=\"middle\">%s</text>\n", w / 2, s->title);
	fprintf(fp, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", l, h - b, w - 10, h - b);
	fprintf(fp, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", l, t, l, h - b);
	fprintf(fp, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n", (l + w) / 2, h - 8,
		s->xlabel);
	fprintf(fp, "<text x=\"14\" y=\"%.0f\" font-size=\"12\" transform=\"rotate(-90 14 %.0f)\" text-anchor=\"middle\">%s</text>\n",
		(t + h - b) / 2, (t + h - b) / 2, s->ylabel);
	for (int k = 0; k <= 4; k++) {
		double v = ymax * k / 4, y = h - b - (h - b - t) * k / 4;
		fprintf(fp, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\">%.3g</text>\n", l - 4, y + 3, v);
		fprintf(fp, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#ddd\"/>\n", l, y, w - 10, y);
	}
	fprintf(fp, "<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"2\" points=\"");
	for (size_t i = 0; i < s->n; i++)
		fprintf(fp, "%.1f,%.1f ", l + (w - 10 - l) * s->x[i] / xmax, h - b - (h - b - t) * s->y[i] / ymax);
	fprintf(fp, "\"/>\n");
	for (size_t i = 0; i < s->n; i++) {
		double x = l + (w - 10 - l) * s->x[i] / xmax, y = h - b - (h - b - t) * s->y[i] / ymax;
		fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f5fa8\"/>\n", x, y);
		fprintf(fp, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"middle\">%g</text>\n", x, h - b + 14, s->x[i]);
	}
	fprintf(fp, "</g>\n");
}

int cs_bench_plot_svg(const char *path, const cs_bench_series_t *a, const cs_bench_series_t *b) {
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"310\" font-family=\"sans-serif\">\n",
		b ? 860 : 430);
	fprintf(fp, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	if (a)
		cs__panel(fp, 0, a);
	if (b)
		cs__panel(fp, 430, b);
	fprintf(fp, "</svg>\n");
	return fclose(fp) ? -1 : 0;
}
