// SPDX-License-Identifier: MIT
/*
 * The capacity model (user/model/model.c) compiled to WebAssembly for the HTML
 * report's sliders: the page runs the very code `flowprof report` runs, so
 * its numbers equal `report --target ... --json` for the same settings.
 * Built by the Makefile's "HTML report assets" section (clang --target=
 * wasm32-wasi), never into the flowprof binary.
 *
 * In:  the snapshot as the model input text that html_model_input.c writes
 *      (and describes; read by model_input_reader.c), and
 *      options, one per line:
 *      "target checkout=800", "instances shop=3", "workers shop=16".
 * Out: a JSON object with the figures of the document's "model" object
 *      that the page shows, rounded as model_report.c rounds them
 *      (docs/model.md), or {"error": "..."}.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"
#include "snapshot/snapshot.h"
#include "wasm.h"

__attribute__((export_name("fp_alloc"))) void *fp_alloc(size_t n)
{
	return xmalloc(n ? n : 1);
}

__attribute__((export_name("fp_free"))) void fp_free(void *p)
{
	free(p);
}

/* ---- the answer ---------------------------------------------------------------- */

/* As json_out.c's jo_num: rounded to at most dec decimals, trailing zeros
 * dropped but one decimal kept, no "-0.0"; null when not finite. */
static void put_num(FILE *o, double v, int dec)
{
	char buf[JSON_NUMBER_BUF];

	fputs(isfinite(v) ? json_number_text(buf, v, dec) : "null", o);
}

/* As report/model_report.c's station_kind_name(), which this build cannot
 * link (report/ is native only): the one place for both is model/, left for
 * that stage's owners. */
static const char *kind_name(enum model_station_kind k)
{
	switch (k) {
	case STATION_POOL: return "pool";
	case STATION_SERIAL: return "serial";
	case STATION_LOCK: return "serial handler";
	case STATION_CPU: return "cpu";
	}
	return "?";
}

static void put_station_name(FILE *o, const struct model *m, int k)
{
	json_put_string(o, k >= 0 ? m->stations[k].name : NULL);
}

static void put_model(FILE *o, const struct model *m)
{
	fputs("{\"bottleneck\":", o);
	if (m->bottleneck >= 0) {
		fputs("{\"station\":", o);
		json_put_string(o, m->stations[m->bottleneck].name);
		fputs(",\"handler\":", o);
		json_put_string(o, m->bottleneck_handler >= 0 ? m->handlers[m->bottleneck_handler].id : NULL);
		fputs(",\"utilization\":", o);
		put_num(o, m->stations[m->bottleneck].utilization, 4);
		fputs(",\"other_processes\":", o);
		put_num(o, m->bottleneck_others, 4);
		fputc('}', o);
	} else {
		fputs("null", o);
	}
	fputs(",\"headroom\":", o);
	put_num(o, m->headroom, 4);
	fputs(",\"throughput_per_s\":", o);
	put_num(o, m->throughput_per_s, 3);
	fputs(",\"max_throughput_per_s\":", o);
	put_num(o, m->max_throughput_per_s, 3);
	fputs(",\"ranking\":[", o);
	for (int i = 0; i < m->n_stations; i++) {
		if (i)
			fputc(',', o);
		json_put_string(o, m->stations[m->ranking[i]].name);
	}
	fputs("],\"stations\":[", o);
	for (int i = 0; i < m->n_stations; i++) {
		const struct model_station *st = &m->stations[m->ranking[i]];
		bool pool = st->kind == STATION_POOL, cpu = st->kind == STATION_CPU;

		fputs(i ? ",{\"name\":" : "{\"name\":", o);
		json_put_string(o, st->name);
		fputs(",\"kind\":", o);
		json_put_string(o, kind_name(st->kind));
		fprintf(o, ",\"servers\":%d,\"instances\":%d,\"workers\":%d", st->servers,
			st->instances, st->workers);
		fputs(",\"servers_source\":", o);
		json_put_string(o, st->servers_source);
		/* as model_report.c: only when the model observed the servers, so
		 * that the page's object is the CLI's wherever both have a key */
		if (st->servers_basis) {
			fputs(",\"servers_basis\":", o);
			json_put_string(o, st->servers_basis);
		}
		fputs(",\"utilization\":", o);
		put_num(o, st->utilization, 4);
		fputs(",\"utilization_loaded\":", o);
		if (pool || st->kind == STATION_SERIAL)
			put_num(o, st->utilization_loaded, 4);
		else
			fputs("null", o);
		fputs(",\"service_ns\":", o);
		put_num(o, cpu ? NAN : st->service_ns, 1);
		fputs(",\"wait_probability\":", o);
		put_num(o, cpu ? NAN : st->pwait, 4);
		fputs(",\"wait_ns\":", o);
		put_num(o, cpu ? NAN : st->wait_ns, 1);
		fputs(",\"required_servers\":", o);
		if (st->required_servers)
			fprintf(o, "%d", st->required_servers);
		else
			fputs("null", o);
		if (pool)
			fprintf(o, ",\"required_instances\":%d,\"required_workers\":%d",
				st->required_instances, st->required_workers);
		fputc('}', o);
	}
	fputs("],\"flows\":[", o);
	for (int f = 0; f < m->n_flows; f++) {
		const struct model_flow *mf = &m->flows[f];

		fputs(f ? ",{\"name\":" : "{\"name\":", o);
		json_put_string(o, mf->name);
		fputs(",\"rate_per_s\":", o);
		put_num(o, mf->rate_per_s, 3);
		fputs(",\"measured_rate_per_s\":", o);
		put_num(o, mf->measured_rate_per_s, 3);
		fprintf(o, ",\"targeted\":%s", mf->targeted ? "true" : "false");
		fputs(",\"max_rate_per_s\":", o);
		put_num(o, mf->max_rate_per_s, 3);
		fputs(",\"max_rate_alone_per_s\":", o);
		put_num(o, mf->max_rate_alone_per_s, 3);
		fputs(",\"alone_bottleneck\":", o);
		put_station_name(o, m, mf->alone_bottleneck);
		fprintf(o, ",\"exceeds_capacity\":%s", mf->exceeds_capacity ? "true" : "false");
		fputs(",\"saturated_station\":", o);
		put_station_name(o, m, mf->saturated_station);
		fputs(",\"predicted_mean_ns\":", o);
		put_num(o, mf->predicted_mean_ns, 1);
		fputs(",\"predicted_p95_ns\":", o);
		put_num(o, mf->predicted_p95_ns, 1);
		fputs(",\"predicted_p99_ns\":", o);
		put_num(o, mf->predicted_p99_ns, 1);
		fputc('}', o);
	}
	fputs("],\"notes\":[", o);
	for (int i = 0; i < m->n_notes; i++) {
		if (i)
			fputc(',', o);
		json_put_string(o, m->notes[i]);
	}
	fputs("]}", o);
}

static char *error_json(const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	fputs("{\"error\":", o);
	json_put_string(o, msg);
	fputs("}", o);
	fclose(o);
	return buf;
}

/* Runs the model; returns a JSON text the caller frees with fp_free. */
__attribute__((export_name("fp_model"))) char *fp_model(char *input, char *options)
{
	struct snapshot s = { 0 };
	struct model_opts mo = { 0 };
	struct model m;
	char err[512], *out = NULL, *line, *save = NULL;
	size_t len = 0;

	if (model_input_read(input, &s, err, sizeof(err))) {
		out = error_json(err);
		goto cleanup;
	}
	for (line = strtok_r(options, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp = '\0';
		if (model_parse_option(&mo, line, sp + 1, err, sizeof(err))) {
			out = error_json(err);
			goto cleanup;
		}
	}
	if (model_build(&s, &mo, &m, err, sizeof(err))) {
		out = error_json(err);
		goto cleanup;
	}
	{
		FILE *o = open_memstream(&out, &len);

		put_model(o, &m);
		fclose(o);
	}
	model_free(&m);
cleanup:
	model_opts_free(&mo);
	snapshot_free(&s);
	return out;
}
