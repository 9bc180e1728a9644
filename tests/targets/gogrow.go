// SPDX-License-Identifier: MIT
//
// gogrow: a Go call that grows its goroutine's stack after whatever
// happened to flowprof meanwhile (tests/e2e/test_faults_survival.py, the
// 1,000-run tests). Prints "inside" from within holdCall (a handler), waits for a
// line on stdin, then recurses 2,000 frames of 1 KiB (the stack is copied
// several times, under the probed frame), panics and recovers inside
// holdCall, prints "grown" and exits 0.
package main

import (
	"bufio"
	"fmt"
	"os"
)

//go:noinline
func deep(n int) int {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	if n <= 0 {
		panic("bottom")
	}
	return deep(n-1) + int(pad[n%1024])
}

//go:noinline
func holdCall(in *bufio.Reader) (r int) {
	defer func() {
		if recover() != nil {
			r = 1
		}
	}()
	fmt.Println("inside")
	if _, err := in.ReadString('\n'); err != nil {
		os.Exit(3)
	}
	return deep(2000)
}

func main() {
	if holdCall(bufio.NewReader(os.Stdin)) != 1 {
		os.Exit(4)
	}
	fmt.Println("grown")
}
