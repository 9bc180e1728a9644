"""The host's description and the commit measured, for the results files."""
import os
import platform
import re
import subprocess

from .common import ROOT


def host_info():
    cpu, flags = None, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k in ("model name", "Model", "Hardware") and not cpu:
                    cpu = v
                elif k in ("flags", "Features") and not flags:
                    flags = set(v.split())
    except OSError:
        pass
    pti = None
    try:
        with open("/sys/devices/system/cpu/vulnerabilities/meltdown") as f:
            m = f.read().strip()
        pti = "PTI" in m if m.startswith(("Mitigation", "Vulnerable")) else \
            False if m == "Not affected" else None
    except OSError:
        pti = "pti" in flags if flags else None
    u = os.uname()
    return {"cpu_model": cpu or platform.processor() or platform.machine(),
            "kernel": u.release, "machine": u.machine, "vcpus": os.cpu_count(),
            "pti": pti, "hypervisor": "hypervisor" in flags}


def slug(text):
    text = re.sub(r"\((r|tm)\)", "", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "cpu"


def git_commit():
    r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def describe_host(h):
    return "%s, %d vCPUs, kernel %s, PTI %s%s" % (
        h["cpu_model"], h["vcpus"], h["kernel"],
        {True: "on", False: "off", None: "unknown"}[h["pti"]],
        ", virtual machine" if h["hypervisor"] else "")
