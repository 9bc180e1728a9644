/* SPDX-License-Identifier: MIT */
/*
 * What the two HTML pages (the snapshot's, html_report.c, and the sweep's,
 * sweep_html.c) and the DOT graph share: escaping every name from the
 * target for where it lands, numbers that read back exactly, the page's
 * start.
 */
#ifndef FLOWPROF_HTML_PAGE_H
#define FLOWPROF_HTML_PAGE_H

#include <stdio.h>

/* s as the text or an attribute value of a page: & < > " ' as entities,
 * control bytes as the visible text \xNN, bytes that are not UTF-8 as
 * U+FFFD, code points that would make a name display as another (bidi
 * overrides, C1 controls) as the text \u{202E}. NULL writes nothing. */
void html_text(FILE *o, const char *s);

/* A report's text inside <pre>: each line as html_text() writes it (a
 * name's own newline stays visible as \x0A), the lines' ends kept. */
void html_pre_text(FILE *o, const char *s);

/* s as the inside of a DOT "..." string: " and \ escaped (a doubled
 * backslash: no \N, \G, \l escapes), control bytes as the text \\xNN, the
 * rest as html_text() treats it. */
void dot_text(FILE *o, const char *s);

/* The shortest "%g" that reads back as v exactly. Caller frees. */
char *html_shortest(double v);

/* ` name="V"`: v exactly (html_shortest()), or "null" when not finite. */
void html_number_attr(FILE *o, const char *name, double v);

/* A page up to its open <body data-state="STATE">: doctype, charset, the
 * title kind + escaped title, the report's style sheet
 * (user/report/assets/report.css), and csp (NULL: none) as its
 * Content-Security-Policy. In html_report.c, with the embedded assets. */
void html_page_start(FILE *o, const char *kind, const char *title, const char *csp,
		     const char *state);

#endif
