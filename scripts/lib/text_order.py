#!/usr/bin/env python3
"""The functions a binary ran, in the order it first ran them, for the linker (scripts/text-order).

  text_order.py BINARY ORDER_FILE TRACE...

Reads the traces scripts/lib/text-trace.c wrote for BINARY (fault addresses, offsets from the load address, in the
order they faulted), finds the function each address is in (`nm` of BINARY: defined code symbols with their sizes), and
appends the functions not yet in ORDER_FILE to it, in the order they first ran (the traces in the order given). The
file is what lld's --symbol-ordering-file reads: one symbol per line; the linker puts the sections holding them first,
in that order. Prints how many functions were found and how many were new.
"""
import bisect
import os
import subprocess
import sys


def code_symbols(binary):
    """(start, end, name) of every defined code symbol with a size, by address."""
    listing = subprocess.run(["nm", "--defined-only", "--no-demangle", "-S", "-n", binary],
                             capture_output=True, text=True, check=True).stdout
    symbols = []
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "tTwW":
            start, size = int(fields[0], 16), int(fields[1], 16)
            if size:
                symbols.append((start, start + size, fields[3]))
    return symbols


def main(binary, order_file, traces):
    symbols = code_symbols(binary)
    starts = [start for start, _, _ in symbols]
    known = []
    if os.path.exists(order_file):
        known = [line.strip() for line in open(order_file) if line.strip()]
    seen = set(known)
    found, new = set(), []
    for trace in traces:
        for line in open(trace):
            address = int(line, 16)
            index = bisect.bisect_right(starts, address) - 1
            if index < 0 or symbols[index][1] <= address:
                continue  # between functions (padding) or in code without a symbol
            name = symbols[index][2]
            found.add(name)
            if name not in seen:
                seen.add(name)
                new.append(name)
    with open(order_file, "w") as out:
        out.writelines(name + "\n" for name in known + new)
    print(f"{os.path.basename(binary)}: {len(found)} functions ran, {len(new)} not in the order yet, {len(known) + len(new)} in it")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
