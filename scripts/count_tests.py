"""Counts test cases from meson's JUnit log and prints the suite's closing line.

A test program that failed without any failing case in the log (a crash, a timeout) counts as
one failure, so a broken binary can never read as a pass. Exit 1 when anything failed.
"""
import json
import sys
import xml.etree.ElementTree as ET

junit_path, json_path = sys.argv[1], sys.argv[2]
passed = failed = skipped = 0
try:
    root = ET.parse(junit_path).getroot()
except (OSError, ET.ParseError) as error:
    print(f"no test results ({error})", file=sys.stderr)
    print("tests: 0 passed, 1 failed")
    sys.exit(1)

failing_programs = set()
for suite in root.iter("testsuite"):
    for case in suite.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failing_programs.add(suite.get("name", ""))
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1

# meson's own per-program results: a failing program with no failing case adds one failure.
try:
    with open(json_path) as f:
        for line in f:
            record = json.loads(line)
            if record.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL"):
                name = record.get("name", "?")
                # meson names gtest suites "<project>.<test>.<Suite>" and TAP suites
                # "<project>.<test>".
                if not any(f".{name}." in p or p.startswith(name + ".") or p.endswith("." + name)
                           for p in failing_programs):
                    failed += 1
                    print(f"test program {name}: {record.get('result')}", file=sys.stderr)
except OSError:
    pass

line = f"tests: {passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
