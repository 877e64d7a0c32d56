"""Inserts the functions of a driver file into an imported module.

  add_driver.py MODULE DRIVER > OUTPUT

The driver's lines, except `//` comment lines, go right before the closing
brace of the module, ahead of the `{-# ... #-}` resource section, so a test
file can hold both its RUN lines and a @main that calls @forward.
"""

import sys


def main():
    with open(sys.argv[1]) as f:
        module = f.read()
    with open(sys.argv[2]) as f:
        driver = [line for line in f if not line.lstrip().startswith("//")]
    body, marker, resources = module.partition("{-#")
    close = body.rstrip().rfind("}")
    if close < 0:
        sys.exit("add_driver.py: %s has no module body" % sys.argv[1])
    sys.stdout.write(body[:close] + "".join(driver) + body[close:] + marker +
                     resources)


if __name__ == "__main__":
    main()
