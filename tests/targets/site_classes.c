// SPDX-License-Identifier: MIT
/*
 * One handler per probe-site class, for tests/e2e/test_site_classes.py.
 * The functions come from include/site_class_funcs.h (the ones flowprof
 * calibrates on), written in assembly so the first instruction is exact:
 *   sc_nop5      0f 1f 44 00 00    nop5 (the kernel turns the uprobe into a call)
 *   sc_emulated  push %rbp         emulated
 *   sc_sstep     lea 0(%rip),%rax  single-stepped
 *   mix_*        the same three again, for a glob that covers all classes
 *   refused      int3: the kernel refuses to probe it (never called)
 *
 *   site_classes [-n CALLS] [-w]
 *
 * calls each of the six functions CALLS times (default 1000), then prints
 *   {"target": "site_classes", "pid": N, "calls": CALLS}
 * -w: the start handshake of target.h.
 */
#include "target.h"
#include "../../include/site_class_funcs.h"

DEFINE_SITE_CLASS_FUNCS(sc);
DEFINE_SITE_CLASS_FUNCS(mix);

__asm__(".text\n"
	".globl refused\n.type refused,@function\n"
	".p2align 4\nrefused:\n"
	"	int3\n"
	"	ret\n"
	".size refused, .-refused\n");
void refused(void);

int main(int argc, char **argv)
{
	static void (*const fns[])(void) = { sc_nop5, sc_emulated, sc_sstep,
					     mix_nop5, mix_emulated, mix_sstep };
	uint64_t calls = 1000;
	bool wait = false;
	int opt;

	while ((opt = getopt(argc, argv, "n:w")) != -1) {
		switch (opt) {
		case 'n':
			calls = arg_u64(optarg, 'n');
			break;
		case 'w':
			wait = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-n CALLS] [-w]\n", argv[0]);
			return 2;
		}
	}
	target_wait_start(wait);
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++)
		for (uint64_t i = 0; i < calls; i++)
			fns[f]();
	if (argc < 0) /* never: keeps `refused` referenced */
		refused();
	printf("{\"target\": \"site_classes\", \"pid\": %d, \"calls\": %" PRIu64 "}\n",
	       (int)getpid(), calls);
	return 0;
}
