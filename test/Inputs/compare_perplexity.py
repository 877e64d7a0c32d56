#!/usr/bin/env python3
"""Compare perplexities printed by `sensq-run perplexity`.

Usage:
  compare_perplexity.py within PERCENT REFERENCE_FILE CANDIDATE_FILE
  compare_perplexity.py below LOWER_FILE HIGHER_FILE

Each file is the output of `sensq-run perplexity`; its `perplexity: VALUE`
line is read. `within` checks |candidate / reference - 1| <= PERCENT / 100,
`below` checks that the first perplexity is strictly lower than the second.
Prints the values and the verdict, and exits 1 when the check fails.
"""

import math
import re
import sys


def read_perplexity(path):
    with open(path) as f:
        for line in f:
            match = re.match(r"perplexity: (\S+)", line)
            if match:
                value = float(match.group(1))
                if not math.isfinite(value):
                    sys.exit("%s: perplexity %s is not finite" % (path, value))
                return value
    sys.exit("%s: no 'perplexity: VALUE' line" % path)


def main():
    mode = sys.argv[1]
    if mode == "within":
        percent = float(sys.argv[2])
        reference = read_perplexity(sys.argv[3])
        candidate = read_perplexity(sys.argv[4])
        change = 100.0 * (candidate / reference - 1.0)
        ok = abs(change) <= percent
        print("reference %.4f candidate %.4f change %+.3f%% (limit %.3f%%): %s"
              % (reference, candidate, change, percent, "PASS" if ok else "FAIL"))
    elif mode == "below":
        lower = read_perplexity(sys.argv[2])
        higher = read_perplexity(sys.argv[3])
        ok = lower < higher
        print("%.4f < %.4f: %s" % (lower, higher, "PASS" if ok else "FAIL"))
    else:
        sys.exit("unknown mode '%s': expected 'within' or 'below'" % mode)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
