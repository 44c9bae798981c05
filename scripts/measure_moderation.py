#!/usr/bin/env python3
"""Measures moderation over many simulated populations.

Runs `connreq simulate --in-memory --json` for every scenario and seed (and
every policy variant given with --variant), two runs at a time, and prints,
per variant: the worst scenario and seed for precision, recall and the share
of normal members flagged, and per rule the figures summed over all runs
(precision, recall, normal members flagged, median days to flag). This is how
the defaults in docs/MODERATION.md were chosen.

    cargo build --release -p connreq-cli
    python3 scripts/measure_moderation.py --seeds 10
    python3 scripts/measure_moderation.py --seeds 5 --variant review_report_share=0.04 \\
        --variant review_report_share=0.05,review_after_reports=4
"""

import argparse
import concurrent.futures
import json
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

SCENARIOS = ["mixed", "recruiters", "pestering", "cycling", "classic"]
BINARY = Path(__file__).resolve().parent.parent / "target" / "release" / "connreq"


def run(args: list[str]) -> dict:
    out = subprocess.run([str(BINARY), *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=10, help="seeds per scenario (1..N)")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--members", type=int, default=10_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--policy", default="standard", choices=["standard", "linkedin"])
    p.add_argument("--scenario", action="append", help="only these scenarios (repeatable)")
    p.add_argument("--variant", action="append", default=[], help="FIELD=JSON[,FIELD=JSON...] (repeatable)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--json", action="store_true", help="print the aggregates as JSON")
    a = p.parse_args()
    scenarios = a.scenario or SCENARIOS
    variants = a.variant or [""]
    seeds = range(a.first_seed, a.first_seed + a.seeds)
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for variant in variants:
            sets = [x for x in variant.split(",") if x]
            for scenario in scenarios:
                for seed in seeds:
                    args = ["--policy", a.policy, "simulate", "--in-memory", "--json", "--members", str(a.members),
                            "--days", str(a.days), "--seed", str(seed), "--scenario", scenario]
                    for s in sets:
                        args += ["--set", s]
                    jobs[pool.submit(run, args)] = (variant, scenario, seed)
        results = defaultdict(list)
        for f in concurrent.futures.as_completed(jobs):
            variant, scenario, seed = jobs[f]
            results[variant].append((scenario, seed, f.result()))
    summary = {}
    for variant in variants:
        runs = results[variant]
        worst = {
            "precision": min(runs, key=lambda r: r[2]["moderation"]["precision"] or 1.0),
            "recall": min(runs, key=lambda r: r[2]["moderation"]["recall"] or 1.0),
            "normal_flagged_share": max(runs, key=lambda r: r[2]["moderation"]["normal_flagged_share"]),
        }
        per_scenario = {}
        for scenario in scenarios:
            mine = [r[2]["moderation"] for r in runs if r[0] == scenario]
            per_scenario[scenario] = {
                "precision_min": min(m["precision"] or 1.0 for m in mine),
                "recall_min": min(m["recall"] or 1.0 for m in mine),
                "normal_flagged_share_max": max(m["normal_flagged_share"] for m in mine),
                "precision_mean": statistics.mean(m["precision"] or 1.0 for m in mine),
                "recall_mean": statistics.mean(m["recall"] or 1.0 for m in mine),
            }
        rules = defaultdict(lambda: {"flagged": 0, "abusers": 0, "normal": 0, "days": [], "planted": 0, "kinds": defaultdict(int)})
        kinds = defaultdict(lambda: {"members": 0, "flagged": 0, "days": []})
        for _, _, r in runs:
            m = r["moderation"]
            for rule in m["rules"]:
                x = rules[rule["rule"]]
                x["flagged"] += rule["flagged"]
                x["abusers"] += rule["abusers"]
                x["normal"] += rule["normal"]
                x["planted"] += m["abusers"]
                if rule["median_days_to_flag"] is not None:
                    x["days"].append(rule["median_days_to_flag"])
                for k, n in rule["by_kind"].items():
                    x["kinds"][k] += n
            for k in m["kinds"]:
                y = kinds[k["kind"]]
                y["members"] += k["members"]
                y["flagged"] += k["flagged"]
                if k["median_days_to_flag"] is not None:
                    y["days"].append(k["median_days_to_flag"])
        normal_members = sum(r[2]["moderation"]["normal_members"] for r in runs)
        summary[variant or "(defaults)"] = {
            "runs": len(runs),
            "worst": {k: {"scenario": v[0], "seed": v[1], "precision": v[2]["moderation"]["precision"],
                          "recall": v[2]["moderation"]["recall"],
                          "normal_flagged_share": v[2]["moderation"]["normal_flagged_share"]}
                      for k, v in worst.items()},
            "scenarios": per_scenario,
            "rules": {k: {"precision": v["abusers"] / v["flagged"] if v["flagged"] else None,
                          "recall": v["abusers"] / v["planted"] if v["planted"] else None,
                          "normal_flagged": v["normal"],
                          "normal_flagged_share": v["normal"] / normal_members,
                          "median_days": statistics.median(v["days"]) if v["days"] else None,
                          "by_kind": dict(v["kinds"])}
                      for k, v in rules.items()},
            "kinds": {k: {"members": v["members"], "flagged": v["flagged"],
                          "median_days": statistics.median(v["days"]) if v["days"] else None}
                      for k, v in kinds.items()},
        }
    if a.json:
        print(json.dumps(summary, indent=1))
        return 0
    for variant, s in summary.items():
        print(f"== {variant}  ({s['runs']} runs, policy {a.policy})")
        for name, w in s["worst"].items():
            print(f"  worst {name:<22} {w['scenario']:<11} seed {w['seed']:<3} precision {w['precision'] or 0:.3f}"
                  f" recall {w['recall'] or 0:.3f} normal flagged {100 * w['normal_flagged_share']:.3f}%")
        for sc, x in s["scenarios"].items():
            print(f"  {sc:<11} precision min {x['precision_min']:.3f} mean {x['precision_mean']:.3f}"
                  f"  recall min {x['recall_min']:.3f} mean {x['recall_mean']:.3f}"
                  f"  normal flagged max {100 * x['normal_flagged_share_max']:.3f}%")
        for rule, x in s["rules"].items():
            if x["precision"] is None:
                continue
            print(f"  rule {rule:<21} precision {x['precision']:.3f} recall {x['recall']:.3f}"
                  f" normal flagged {x['normal_flagged']} ({100 * x['normal_flagged_share']:.3f}%)"
                  f" median days {x['median_days']}  {x['by_kind']}")
        for kind, x in s["kinds"].items():
            print(f"  kind {kind:<18} {x['flagged']:>5}/{x['members']:<6} median days {x['median_days']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
