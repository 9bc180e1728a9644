// SPDX-License-Identifier: MIT
/*
 * The JMVA writer (user/jmva.c) on a model built by hand: the exact
 * document, open and closed; escaping; the split of users over flows.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"
#include "model/model.h"

/* Two flows, a pool of 4 and a serial bundle named "think" (so the think
 * station must take another name). */
struct fixture {
	struct model m;
	struct model_station st[2];
	struct model_flow fl[2];
	double demand[2][2], visits[2][2];
};

static void make_model(struct fixture *fx, const char *flow0)
{
	memset(fx, 0, sizeof(*fx));
	fx->fl[0].name = (char *)flow0;
	fx->fl[0].rate_per_s = 120;
	fx->fl[0].measured_rate_per_s = 120;
	fx->fl[1].name = "checkout";
	fx->fl[1].rate_per_s = 40;
	fx->fl[1].measured_rate_per_s = 40;
	fx->st[0].name = "shop";
	fx->st[0].servers = 4;
	fx->demand[0][0] = 2000000;	/* 2 ms */
	fx->demand[0][1] = 4500000;
	fx->visits[0][0] = 1;
	fx->visits[0][1] = 2;
	fx->st[1].name = "think";
	fx->st[1].servers = 1;
	fx->demand[1][0] = 0;
	fx->demand[1][1] = 250;		/* 250 ns, no separate visit known */
	fx->visits[1][0] = 0;
	fx->visits[1][1] = 0;
	for (int k = 0; k < 2; k++) {
		fx->st[k].demand_ns = fx->demand[k];
		fx->st[k].demand_exclusive_ns = fx->demand[k];
		fx->st[k].visits = fx->visits[k];
	}
	fx->m.stations = fx->st;
	fx->m.n_stations = 2;
	fx->m.flows = fx->fl;
	fx->m.n_flows = 2;
}

static void test_open_document(void **state)
{
	struct fixture fx;
	struct jmva_opts o = { .description = "a & b" };
	char *doc;

	(void)state;
	make_model(&fx, "browse");
	doc = jmva_document(&fx.m, &o);
	assert_string_equal(doc,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<model xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		"xsi:noNamespaceSchemaLocation=\"JMTmodel.xsd\">\n"
		"  <description>a &amp; b</description>\n"
		"  <parameters>\n"
		"    <classes number=\"2\">\n"
		"      <openclass name=\"browse\" rate=\"120.0\"/>\n"
		"      <openclass name=\"checkout\" rate=\"40.0\"/>\n"
		"    </classes>\n"
		"    <stations number=\"2\">\n"
		"      <listation name=\"shop\" servers=\"4\">\n"
		"        <servicetimes>\n"
		"          <servicetime customerclass=\"browse\">0.002</servicetime>\n"
		"          <servicetime customerclass=\"checkout\">0.00225</servicetime>\n"
		"        </servicetimes>\n"
		"        <visits>\n"
		"          <visit customerclass=\"browse\">1.0</visit>\n"
		"          <visit customerclass=\"checkout\">2.0</visit>\n"
		"        </visits>\n"
		"      </listation>\n"
		"      <listation name=\"think\" servers=\"1\">\n"
		"        <servicetimes>\n"
		"          <servicetime customerclass=\"browse\">0.0</servicetime>\n"
		"          <servicetime customerclass=\"checkout\">2.5e-07</servicetime>\n"
		"        </servicetimes>\n"
		"        <visits>\n"
		"          <visit customerclass=\"browse\">0.0</visit>\n"
		"          <visit customerclass=\"checkout\">1.0</visit>\n"
		"        </visits>\n"
		"      </listation>\n"
		"    </stations>\n"
		"  </parameters>\n"
		"</model>\n");
	free(doc);
}

static void test_closed_document(void **state)
{
	struct fixture fx;
	struct jmva_opts o = { .users = 10, .think_s = 0.5 };
	char *doc;

	(void)state;
	make_model(&fx, "browse");
	doc = jmva_document(&fx.m, &o);
	assert_non_null(strstr(doc, "    <classes number=\"2\">\n"
				    "      <closedclass name=\"browse\" population=\"8\"/>\n"
				    "      <closedclass name=\"checkout\" population=\"2\"/>\n"
				    "    </classes>\n"
				    "    <stations number=\"3\">\n"
				    "      <delaystation name=\"think time\">\n"
				    "        <servicetimes>\n"
				    "          <servicetime customerclass=\"browse\">0.5</servicetime>\n"
				    "          <servicetime customerclass=\"checkout\">0.5</servicetime>\n"
				    "        </servicetimes>\n"
				    "        <visits>\n"
				    "          <visit customerclass=\"browse\">1.0</visit>\n"
				    "          <visit customerclass=\"checkout\">1.0</visit>\n"
				    "        </visits>\n"
				    "      </delaystation>\n"
				    "      <listation name=\"shop\" servers=\"4\">\n"));
	free(doc);
	/* no think time: no delay station */
	o.think_s = 0;
	doc = jmva_document(&fx.m, &o);
	assert_non_null(strstr(doc, "<stations number=\"2\">"));
	assert_null(strstr(doc, "delaystation"));
	free(doc);
}

static void test_names_are_escaped(void **state)
{
	struct fixture fx;
	char *doc;

	(void)state;
	make_model(&fx, "<a href='x'>&\"\x01\xff");
	doc = jmva_document(&fx.m, NULL);
	assert_non_null(strstr(doc, "<openclass name=\"&lt;a href=&apos;x&apos;&gt;&amp;&quot;"
				    "\xef\xbf\xbd\xef\xbf\xbd\" rate=\"120.0\"/>"));
	assert_null(strstr(doc, "<a href"));
	free(doc);
}

static void test_split_users(void **state)
{
	int out[3];
	double mix[3] = { 3, 1, 0 };
	double even[3] = { 1, 1, 1 };
	double none[3] = { 0, 0, 0 };

	(void)state;
	jmva_split_users(10, mix, 2, out);
	assert_int_equal(out[0], 8); /* 7.5 and 2.5: the tie goes to the first */
	assert_int_equal(out[1], 2);
	jmva_split_users(7, mix, 3, out);
	assert_int_equal(out[0], 5); /* 5.25, 1.75, 0 */
	assert_int_equal(out[1], 2);
	assert_int_equal(out[2], 0);
	jmva_split_users(10, even, 3, out);
	assert_int_equal(out[0] + out[1] + out[2], 10);
	assert_int_equal(out[0], 4);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 3);
	jmva_split_users(2, none, 3, out); /* no mix: spread evenly */
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 1);
	assert_int_equal(out[2], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_document),
		cmocka_unit_test(test_closed_document),
		cmocka_unit_test(test_names_are_escaped),
		cmocka_unit_test(test_split_users),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
