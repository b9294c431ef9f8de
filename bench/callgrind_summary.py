#!/usr/bin/env python3
"""Instructions per request from a callgrind dump: the total, then the functions that execute
the most of them (exclusive counts, that is, in the function's own code).

Usage: callgrind_summary.py DUMP REQUESTS [TOP]

Reads callgrind's output format: `fn=` starts a function's cost lines, `cfn=`/`calls=` introduce
the inclusive cost of a call (skipped here: it belongs to the callee), and names may be
compressed to `(id)` after their first appearance."""

import collections
import re
import sys

NAMED = re.compile(r"\((\d+)\)(?: (.*))?")


def exclusive_costs(lines):
    names = {}
    costs = collections.Counter()
    current = None
    call_cost_next = False

    def resolve(spec):
        match = NAMED.fullmatch(spec)
        if not match:
            return spec
        if match.group(2):
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), match.group(1))

    for line in lines:
        line = line.rstrip("\n")
        if line.startswith("fn="):
            current = resolve(line[3:])
        elif line.startswith("cfn="):
            resolve(line[4:])
        elif line.startswith("calls="):
            call_cost_next = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if call_cost_next:
                call_cost_next = False
                continue
            fields = line.split()
            if current is not None and len(fields) >= 2:
                costs[current] += int(fields[1])
    return costs


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    requests = int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) == 4 else 25
    if requests <= 0:
        sys.exit("callgrind_summary.py: no requests were counted")
    with open(sys.argv[1], encoding="utf-8", errors="replace") as dump:
        costs = exclusive_costs(dump)
    total = sum(costs.values())
    print(f"instructions per request: {total / requests:,.0f}")
    for name, cost in costs.most_common(top):
        print(f"{cost / requests:10,.1f}  {100 * cost / total:5.1f}%  {name[:140]}")


if __name__ == "__main__":
    main()
