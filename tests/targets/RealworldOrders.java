// SPDX-License-Identifier: MIT
/*
 * RealworldOrders: a JVM target for tests/e2e/test_realworld_java.py
 * (compiled there with javac: the Makefile builds only tests/targets/*.c).
 *
 *   java [-XX:+ExtendedDTraceProbes] -cp DIR com.example.RealworldOrders ORDERS
 *
 * Prints "ready PID", waits for a line on stdin, then places ORDERS orders:
 * each is RealworldOrders.place() -> 2 x RealworldOrders.validate(), and
 * one call of Other.place() (same method name, another class). Ends with
 * one JSON line of the calls made.
 */
package com.example;

public class RealworldOrders {
    static long sink;
    static long placed, validated, otherPlaced;

    static int validate(int id) {
        validated++;
        return id % 3;
    }

    static long place(int id) {
        long s = 0;
        placed++;
        for (int i = 0; i < 2; i++)
            s += validate(id + i);
        return s;
    }

    public static void main(String[] args) throws Exception {
        int orders = Integer.parseInt(args[0]);
        System.out.println("ready " + ProcessHandle.current().pid());
        System.out.flush();
        while (System.in.read() != '\n') {
        }
        for (int i = 0; i < orders; i++) {
            sink += place(i);
            sink += Other.place(i);
        }
        System.out.println("{\"target\": \"RealworldOrders\", \"place\": " + placed
                + ", \"validate\": " + validated + ", \"other_place\": " + Other.placed + "}");
        System.out.flush();
    }
}

class Other {
    static long placed;

    static long place(int id) {
        placed++;
        return id;
    }
}
