"""Adds up the test cases of one run of the suite and prints its closing line.

Usage: count_tests.py --pass KIND LABEL PATH START [--pass ...]
  KIND meson: PATH is a build dir; its meson-logs/testlog.json and testlog.junit.xml are read.
  KIND junit: PATH is a JUnit XML file (gtest's or any other).
  KIND list:  PATH holds lines "NAME ok|fail|skip".
  START: when the pass began (epoch seconds); results older than that are a previous run's.

Only this run's results count: a missing, unreadable or stale report is a failure, a test program
that crashed or timed out without a failing case is one failure, and a case is a pass only when it
says it ran (gtest's status="run") or is meson's own record of a program of this run. Prints one
line per pass, then "tests: N passed, N failed" (", N skipped" when some were); exits 1 when
anything failed.
"""
import datetime
import json
import os
import sys
import xml.etree.ElementTree as ET

# gtest stamps each suite when it starts; meson and the file system round differently.
SLACK_S = 2.0


class Tally:
    def __init__(self, label=""):
        self.label = label
        self.passed = self.failed = self.skipped = 0

    def fail(self, why):
        self.failed += 1
        print(f"  {self.label}: failed: {why}")

    def line(self):
        text = f"{self.passed} passed, {self.failed} failed"
        return text + (f", {self.skipped} skipped" if self.skipped else "")


def fresh_file(tally, path, start, what):
    """True when `path` exists and was written during this pass."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError as error:
        tally.fail(f"no {what} ({error})")
        return False
    if mtime < start - SLACK_S:
        tally.fail(f"{what} {path} is older than this run (a previous run's results)")
        return False
    return True


def count_case(tally, case, where, meson_made):
    """One <testcase>: a failure or error child fails it, a skipped child skips it; otherwise it
    passes only when it ran (gtest) or is meson's record of a program of this run."""
    name = f"{where}.{case.get('name', '?')}"
    if case.find("failure") is not None or case.find("error") is not None:
        tally.fail(name)
    elif case.find("skipped") is not None:
        tally.skipped += 1
    elif case.get("status") == "run" or (meson_made and case.get("status") is None):
        tally.passed += 1
    elif case.get("status") == "notrun":
        tally.skipped += 1  # a DISABLED_ test: not run, so not a pass
        print(f"  {tally.label}: not run (disabled): {name}")
    else:
        tally.fail(f"{name}: no result (status={case.get('status')!r})")


def suite_is_stale(suite, start):
    stamp = suite.get("timestamp")
    if not stamp:
        return False
    try:
        when = datetime.datetime.fromisoformat(stamp).timestamp()  # local time, as gtest writes
    except ValueError:
        return True
    return when < start - SLACK_S


def count_meson(tally, build, start):
    json_path = os.path.join(build, "meson-logs", "testlog.json")
    junit_path = os.path.join(build, "meson-logs", "testlog.junit.xml")
    if not fresh_file(tally, json_path, start, "meson test log") or \
            not fresh_file(tally, junit_path, start, "JUnit log"):
        return
    programs = {}
    try:
        with open(json_path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    programs[record["name"]] = record
        root = ET.parse(junit_path).getroot()
    except (OSError, ValueError, KeyError, ET.ParseError) as error:
        tally.fail(f"unreadable test log ({error})")
        return
    if not programs:
        tally.fail(f"{json_path} names no test program")
        return
    failing = set()  # programs with at least one failing case
    counted = set()  # programs with at least one case
    for suite in root.iter("testsuite"):
        parts = suite.get("name", "").split(".", 2)
        if len(parts) == 1:
            # Meson's suite of single-result programs (exit code, or a gtest program whose XML
            # was never written: a crash): one case per program, named after it.
            cases = [(c, c.get("name")) for c in suite.iter("testcase")]
            meson_made = True
        else:
            cases = [(c, parts[1]) for c in suite.iter("testcase")]
            meson_made = len(parts) == 2  # "project.test": meson's record of a TAP program
        for case, program in cases:
            if program not in programs:
                tally.fail(f"{suite.get('name')}: results of no program of this run")
                continue
            if suite_is_stale(suite, start):
                tally.fail(f"{suite.get('name')}: results stamped {suite.get('timestamp')}, "
                           "before this run")
                failing.add(program)
                continue
            before = tally.failed
            count_case(tally, case, suite.get("name"), meson_made)
            counted.add(program)
            if tally.failed > before:
                failing.add(program)
    for name, record in programs.items():
        result = record.get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            if name not in counted:
                tally.fail(f"test program {name}: {result} but no case recorded")
        elif result == "SKIP":
            if name not in counted:
                tally.skipped += 1
        elif name not in failing:
            tally.fail(f"test program {name}: {result} (exit {record.get('returncode')}) "
                       "with no failing case: a crash or a timeout")


def count_junit(tally, path, start):
    if not fresh_file(tally, path, start, "JUnit report"):
        return
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        tally.fail(f"unreadable JUnit report {path} ({error})")
        return
    before = tally.passed + tally.failed + tally.skipped
    for suite in root.iter("testsuite"):
        if suite_is_stale(suite, start):
            tally.fail(f"{suite.get('name')}: stamped before this run")
            continue
        for case in suite.iter("testcase"):
            count_case(tally, case, suite.get("name", "?"), meson_made=False)
    if tally.passed + tally.failed + tally.skipped == before:
        tally.fail(f"{path} holds no test case")


def count_list(tally, path, start):
    if not fresh_file(tally, path, start, "result list"):
        return
    lines = 0
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            lines += 1
            name, _, outcome = line.rstrip("\n").rpartition(" ")
            if outcome == "ok":
                tally.passed += 1
            elif outcome == "skip":
                tally.skipped += 1
            else:
                tally.fail(name if outcome == "fail" else f"unreadable result line: {line!r}")
    if lines == 0:
        tally.fail(f"{path} holds no result")


def main(argv):
    passes = []
    i = 0
    while i < len(argv):
        if argv[i] != "--pass" or len(argv) - i < 5:
            print(__doc__, file=sys.stderr)
            print("tests: 0 passed, 1 failed")
            return 1
        passes.append(tuple(argv[i + 1:i + 5]))
        i += 5
    if not passes:
        print(__doc__, file=sys.stderr)
        print("tests: 0 passed, 1 failed")
        return 1
    total = Tally()
    for kind, label, path, start in passes:
        tally = Tally(label)
        counter = {"meson": count_meson, "junit": count_junit, "list": count_list}.get(kind)
        if counter is None:
            tally.fail(f"unknown kind of pass {kind!r}")
        else:
            try:
                start_s = float(start)
            except ValueError:
                start_s = float("inf")  # an unreadable start time: nothing counts as fresh
            counter(tally, path, start_s)
        print(f"pass {label}: {tally.line()}")
        total.passed += tally.passed
        total.failed += tally.failed
        total.skipped += tally.skipped
    print(f"tests: {total.line()}")
    return 1 if total.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
