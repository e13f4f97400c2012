# -*- coding: utf-8 -*-
"""Summarise an Autobahn|Testsuite fuzzingclient report (index.json).

Usage: python report.py REPORT_DIR [AGENT]

Prints the number of cases per behavior and per closing behavior, then every
failing case with the suite's own explanation (result / resultClose) taken
from the per-case JSON file, and finally one line
"autobahn: N cases, M failed".

A case fails when its behavior or its closing behavior is one of
AUTOBAHN_FAIL_ON (comma separated, default "FAILED,WRONG CODE,UNCLEAN").

Exit status: 0 all good, 1 some case failed, 2 the report is missing or
unreadable (or holds no case at all).

Runs on Python 2.7 (the wstest virtualenv) and on Python 3.
"""
from __future__ import print_function

import io
import json
import os
import re
import sys

ORDER = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED",
         "FAILED BY CLIENT", "WRONG CODE", "UNCLEAN", "FAILED"]


def case_key(case_id):
    return [int(p) if p.isdigit() else p for p in re.split(r"[.]", case_id)]


def counts_line(counter):
    keys = sorted(counter, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER), k))
    return ", ".join("%s %d" % (k, counter[k]) for k in keys) or "(none)"


def short(value, limit=400):
    text = json.dumps(value, sort_keys=True)
    if len(text) > limit:
        text = text[:limit] + "... (%d chars)" % len(text)
    return text


def prose(text):
    return " ".join((text or "").replace("<br>", " ").split())


def load_json(path):
    with io.open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    if len(argv) < 2:
        print("usage: report.py REPORT_DIR [AGENT]", file=sys.stderr)
        return 2
    report_dir = argv[1]
    agent = argv[2] if len(argv) > 2 else None
    fail_on = set(s.strip() for s in os.environ.get(
        "AUTOBAHN_FAIL_ON", "FAILED,WRONG CODE,UNCLEAN").split(",") if s.strip())

    index_path = os.path.join(report_dir, "index.json")
    try:
        index = load_json(index_path)
    except (IOError, OSError, ValueError) as e:
        print("autobahn: cannot read %s: %s" % (index_path, e))
        return 2

    if agent is None:
        if len(index) != 1:
            print("autobahn: index.json has agents %s; name one" % sorted(index))
            return 2
        agent = list(index)[0]
    cases = index.get(agent)
    if not cases:
        print("autobahn: no case results for agent %r in %s" % (agent, index_path))
        return 2

    behavior = {}
    closing = {}
    failing = []
    for case_id in sorted(cases, key=case_key):
        c = cases[case_id]
        b = c.get("behavior", "?")
        bc = c.get("behaviorClose", "?")
        behavior[b] = behavior.get(b, 0) + 1
        closing[bc] = closing.get(bc, 0) + 1
        if b in fail_on or bc in fail_on:
            failing.append((case_id, c))

    print("autobahn report: %s" % os.path.join(report_dir, "index.html"))
    print("behavior:         %s" % counts_line(behavior))
    print("closing behavior: %s" % counts_line(closing))

    by_client = closing.get("FAILED BY CLIENT", 0)
    if by_client:
        print("note: %d cases FAILED BY CLIENT (not counted as failed): the server answered the"
              " close handshake but left closing the TCP connection to the client; RFC 6455"
              " 7.1.1 says the server should close it first" % by_client)

    if failing:
        print("")
        print("failing cases (%s):" % ", ".join(sorted(fail_on)))
        for case_id, c in failing:
            detail = {}
            report_file = c.get("reportfile")
            if report_file:
                try:
                    detail = load_json(os.path.join(report_dir, report_file))
                except (IOError, OSError, ValueError):
                    detail = {}
            print("  %-8s behavior=%s close=%s remoteCloseCode=%s  [%s]" % (
                case_id, c.get("behavior"), c.get("behaviorClose"),
                c.get("remoteCloseCode"), report_file or "no per-case file"))
            if detail:
                print("           description: %s" % prose(detail.get("description")))
                print("           expectation: %s" % prose(detail.get("expectation")))
                print("           result:      %s" % detail.get("result"))
                print("           resultClose: %s" % detail.get("resultClose"))
                print("           expected:    %s" % short(detail.get("expected")))
                print("           received:    %s" % short(detail.get("received")))
                print("           expectedClose: %s" % short(detail.get("expectedClose")))
                print("           closedByMe=%s failedByMe=%s droppedByMe=%s wasClean=%s"
                      " localCloseCode=%s remoteCloseCode=%s remoteCloseReason=%s" % (
                          detail.get("closedByMe"), detail.get("failedByMe"),
                          detail.get("droppedByMe"), detail.get("wasClean"),
                          detail.get("localCloseCode"), detail.get("remoteCloseCode"),
                          short(detail.get("remoteCloseReason"), 120)))
                if detail.get("wasNotCleanReason"):
                    print("           wasNotCleanReason: %s" % detail.get("wasNotCleanReason"))

    print("")
    print("autobahn: %d cases, %d failed" % (len(cases), len(failing)))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
