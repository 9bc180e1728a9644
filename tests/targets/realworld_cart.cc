// SPDX-License-Identifier: MIT
/*
 * realworld_cart: C++ methods in namespaces, for the demangled-glob test of
 * tests/e2e/test_realworld_usdt.py (compiled there with g++: the Makefile
 * builds only tests/targets/*.c).
 *
 *   realworld_cart [-w] ORDERS
 *
 * Each order: Shop::Order::place() -> 3 x Shop::Cart::add(int),
 * 1 x Shop::Cart::add(std::string const&), 1 x Shop::Cart::total() const,
 * and Shop::Pricing::discount(int) (another class: not Shop::Cart::*).
 * -w: print "ready PID", wait for one byte on stdin. At the end one JSON
 * line with the calls made.
 */
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace Shop {

static long calls_add_int, calls_add_name, calls_total, calls_place, calls_discount;

class Cart {
public:
	void add(int cents);
	void add(const std::string &name);
	long total() const;

private:
	long sum = 0;
	size_t names = 0;
};

class Pricing {
public:
	static long discount(long cents);
};

class Order {
public:
	static long place(int id);
};

__attribute__((noinline)) void Cart::add(int cents)
{
	calls_add_int++;
	sum += cents;
}

__attribute__((noinline)) void Cart::add(const std::string &name)
{
	calls_add_name++;
	names += name.size();
}

__attribute__((noinline)) long Cart::total() const
{
	calls_total++;
	return sum + (long)names;
}

__attribute__((noinline)) long Pricing::discount(long cents)
{
	calls_discount++;
	return cents - cents / 10;
}

__attribute__((noinline)) long Order::place(int id)
{
	Cart cart;

	calls_place++;
	for (int i = 0; i < 3; i++)
		cart.add(id + i);
	cart.add(std::string("gift wrap"));
	return Pricing::discount(cart.total());
}

} // namespace Shop

int main(int argc, char **argv)
{
	int wait = argc > 1 && std::string(argv[1]) == "-w";
	int orders = argc > 1 + wait ? std::atoi(argv[1 + wait]) : 10;
	long sink = 0;
	char c;

	if (wait) {
		std::printf("ready %d\n", (int)getpid());
		std::fflush(stdout);
		if (read(0, &c, 1) != 1)
			return 1;
	}
	for (int i = 0; i < orders; i++)
		sink += Shop::Order::place(i);
	std::printf("{\"target\": \"realworld_cart\", \"pid\": %d, \"place\": %ld, \"add_int\": %ld, "
		    "\"add_name\": %ld, \"total\": %ld, \"discount\": %ld, \"sink\": %ld}\n",
		    (int)getpid(), Shop::calls_place, Shop::calls_add_int, Shop::calls_add_name,
		    Shop::calls_total, Shop::calls_discount, sink);
	return 0;
}
