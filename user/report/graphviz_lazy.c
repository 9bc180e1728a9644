// SPDX-License-Identifier: MIT
/*
 * The Graphviz functions the HTML report lays its flow graph out with
 * (flow_graph.c), loaded from libgvc when the first page is drawn instead
 * of being linked: linked, libgvc and its five libraries (0.5 MiB of RSS)
 * are mapped into every flowprof, the recording agent included. Each
 * function here has the library's own prototype and calls the library's.
 * When it cannot be loaded, gvContext() says why and returns NULL, and the
 * rest do nothing: the page says Graphviz could not lay the graph out.
 */
#include <dlfcn.h>
#include <stddef.h>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "base/base.h"

/* Graphviz 2.x's sonames (Debian 12: libgvc6, libcgraph6); libgvc brings
 * libcgraph. The development symlinks as a second chance. */
static const char *const gvc_libs[] = { "libgvc.so.6", "libgvc.so" };

static struct {
	bool tried;
	__typeof__(gvContext) *context;
	__typeof__(gvFreeContext) *free_context;
	__typeof__(gvLayout) *layout;
	__typeof__(gvFreeLayout) *free_layout;
	__typeof__(gvRenderData) *render_data;
	__typeof__(gvFreeRenderData) *free_render_data;
	__typeof__(agmemread) *memread;
	__typeof__(agclose) *close;
	__typeof__(agseterr) *seterr;
} gv;

static bool load_gv(void)
{
	void *h = NULL;

	if (gv.tried)
		return gv.context != NULL;
	gv.tried = true;
	for (size_t i = 0; i < ARRAY_SIZE(gvc_libs) && !h; i++)
		h = dlopen(gvc_libs[i], RTLD_NOW | RTLD_GLOBAL);
	if (!h) {
		log_warn("cannot load Graphviz (%s): %s", gvc_libs[0], dlerror());
		return false;
	}
#define SYM(f, name)                                                               \
	if (!(*(void **)&gv.f = dlsym(h, name))) {                                 \
		log_warn("Graphviz (%s) has no %s: %s", gvc_libs[0], name, dlerror()); \
		goto fail;                                                         \
	}
	SYM(free_context, "gvFreeContext");
	SYM(layout, "gvLayout");
	SYM(free_layout, "gvFreeLayout");
	SYM(render_data, "gvRenderData");
	SYM(free_render_data, "gvFreeRenderData");
	SYM(memread, "agmemread");
	SYM(close, "agclose");
	SYM(seterr, "agseterr");
	SYM(context, "gvContext"); /* last: it says the table is complete */
#undef SYM
	return true; /* stays loaded */
fail:
	gv.context = NULL;
	dlclose(h);
	return false;
}

GVC_t *gvContext(void)
{
	return load_gv() ? gv.context() : NULL;
}

int gvFreeContext(GVC_t *gvc)
{
	return gvc && gv.context ? gv.free_context(gvc) : 0;
}

int gvLayout(GVC_t *gvc, graph_t *g, const char *engine)
{
	return gvc && g && gv.context ? gv.layout(gvc, g, engine) : -1;
}

int gvFreeLayout(GVC_t *gvc, graph_t *g)
{
	return gvc && g && gv.context ? gv.free_layout(gvc, g) : 0;
}

int gvRenderData(GVC_t *gvc, graph_t *g, const char *format, char **result,
		 unsigned int *length)
{
	return gvc && g && gv.context ? gv.render_data(gvc, g, format, result, length) : -1;
}

void gvFreeRenderData(char *data)
{
	if (data && gv.context)
		gv.free_render_data(data);
}

Agraph_t *agmemread(const char *cp)
{
	return load_gv() ? gv.memread(cp) : NULL;
}

int agclose(Agraph_t *g)
{
	return g && gv.context ? gv.close(g) : 0;
}

agerrlevel_t agseterr(agerrlevel_t level)
{
	return load_gv() ? gv.seterr(level) : level;
}
