// SPDX-License-Identifier: MIT
/* The C++ library that tests/targets/cxx_lib_user.c needs: it throws, and it
 * catches what it threw after the C caller's frames in between. */
#include <stdexcept>

extern "C" void cxx_lib_throw(void)
{
	throw std::runtime_error("through a C caller");
}

extern "C" int cxx_lib_run(void (*fn)(int), int arg)
{
	try {
		fn(arg);
	} catch (const std::runtime_error &) {
		return 1;
	}
	return 0;
}
