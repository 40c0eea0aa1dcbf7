"""Print the table of the ratios that the benchmarks of one ``bench/run`` kept (common.record).

table.py RESULTS    RESULTS: one JSON row [scenario, size, ratio, goal] a line
"""

import json
import sys


def verdict(ratio, goal):
    if not goal:
        return ""
    sign, bound = goal.split()
    met = ratio <= float(bound) if sign == "<=" else ratio >= float(bound)
    return "yes" if met else "NO"


def main(path):
    with open(path, encoding="utf-8") as rows_file:
        rows = [json.loads(line) for line in rows_file if line.strip()]
    if not rows:
        return
    print("\n| scenario | size | ratio | goal | met |\n| --- | --- | --- | --- | --- |")
    for scenario, size, ratio, goal in rows:
        print(f"| {scenario} | {size} | {ratio:.3f} | {goal} | {verdict(ratio, goal)} |")


if __name__ == "__main__":
    main(sys.argv[1])
