"""flowprof's benchmark, by concern (bench/bench.py runs it; bench/README.md).

common       paths, the log, errors, medians and number formats
proc         child processes (Proc) and what /proc and bpftool say of them
record       flow files and `flowprof record` runs of many_handlers
per_call     ns per call at each probe-site class (section percall)
bpf_time     time inside the BPF programs (section bpftime)
scale        start-up, attach and detach at 1..1000 handlers, map memory (scale)
agent        flowprof's CPU and RSS under load (agent)
sched        the sched_switch program's host-wide cost (sched)
accuracy     flowprof's figures against the targets' own clocks (accuracy)
saturation   real servers' maximum and response against the model (saturation)
goals        the goals, met or not
render       the Markdown tables
host         the host's description and the commit
results      the results files
"""
