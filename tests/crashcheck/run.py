#!/usr/bin/env python3
"""run.py: the crash-state explorer of the store (make crashcheck).

For each update protocol (protocols.py): record what the real smtpd and
pop3d do to the spool (record.py, under strace), build every state a power
cut may leave under the model of states.py, and on each run what a user
runs next and check the invariants (check.py).  docs/RELIABILITY.md
("Power cuts") states the model and the results.

  make crashcheck                      CI: a fixed sample of each protocol
  make crashcheck CRASH_FULL=1         every state
  make crashcheck CRASH_ONLY=P         every state of protocol P
  make crashcheck CRASH_ONLY=P:ID      state ID of P alone, its spool kept
Both modes build the same states (at most CAP choices per crash point, the
rest drawn with a fixed seed), so an id names the same state in each.

Env: B (build directory), CRASH_FULL, CRASH_ONLY.  Exit 0 when no state
violates an invariant.  Needs strace (tests/deps.sh installs it).
"""
import os
import random
import shutil
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True	# nothing left behind in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check		# noqa: E402
import protocols	# noqa: E402
import record		# noqa: E402
import states		# noqa: E402

CAP = 4096		# choices per crash point
CI_SAMPLE = 1000		# states checked per protocol in CI
SHOW = 3		# failing states printed per protocol


def sample(sts, n, seed):
    """N of STS: one from each crash point first, then the rest at random,
    with a fixed seed, in id order."""
    if len(sts) <= n:
        return list(sts)
    rng = random.Random(seed)
    by_cut = {}
    for s in sts:
        by_cut.setdefault(s.cut, []).append(s)
    pick = {rng.choice(v).id for v in by_cut.values()}
    rest = [s.id for s in sts if s.id not in pick]
    rng.shuffle(rest)
    pick.update(rest[:max(0, n - len(pick))])
    return [sts[i] for i in sorted(pick)]


def explore(proto, bins, mode, only_id, tmp):
    T = tempfile.mkdtemp(prefix="rec.", dir=tmp)
    rec, ref = record.record(proto, T, bins)
    sts, looked = states.enumerate_states(rec, CAP)
    if only_id is not None:
        todo = [sts[only_id]]
    elif mode == "sample":
        todo = sample(sts, CI_SAMPLE, zlib.crc32(proto.name.encode()))
    else:
        todo = sts
    failed, kinds, notes = [], {}, {}
    for st in todo:
        S = tempfile.mkdtemp(prefix="state.", dir=tmp)
        bad, nt = check.check(proto, rec, ref, st, bins, S)
        for k, _ in bad:
            kinds[k] = kinds.get(k, 0) + 1
        for k, _ in nt:
            notes[k] = notes.get(k, 0) + 1
        if bad:
            failed.append((st, bad, nt))
        if only_id is not None:
            print(st.describe(rec))
            for k, t in bad + nt:
                print("  %s: %s" % (k, t))
            print("  the state's spool is kept in %s" % os.path.join(S, "spool"))
        else:
            shutil.rmtree(S)
    shutil.rmtree(T)
    return rec, sts, looked, todo, failed, kinds, notes


def main():
    B = os.environ.get("B", "build")
    bins = {"smtpd": os.path.abspath(B + "/smtpd/smtpd"),
            "pop3d": os.path.abspath(B + "/pop3d/pop3d"),
            "mboxtool": os.path.abspath(B + "/tools/mboxtool")}
    if shutil.which("strace") is None:
        print("crashcheck: strace is missing (tests/deps.sh installs it)")
        return 1
    only = os.environ.get("CRASH_ONLY", "")
    mode = "full" if os.environ.get("CRASH_FULL") == "1" else "sample"
    names, only_id = [p.name for p in protocols.PROTOCOLS], None
    if only:
        name, _, sid = only.partition(":")
        names = [protocols.by_name(name).name]
        mode = "full"
        only_id = int(sid) if sid else None
        print("%s: %s" % (name, protocols.by_name(name).what))
    tmp = tempfile.mkdtemp(prefix="crashcheck.")
    os.chmod(tmp, 0o755)
    t0, total_bad, rows = time.time(), 0, []
    print("crashcheck: %s, model in docs/RELIABILITY.md (Power cuts)" %
          {"full": "every state", "sample": "a fixed sample of each protocol"}[mode])
    for name in names:
        proto = protocols.by_name(name)
        t1 = time.time()
        rec, sts, looked, todo, failed, kinds, notes = explore(proto, bins, mode, only_id, tmp)
        total_bad += len(failed)
        rows.append((name, len(rec.events), len(sts), len(todo), len(failed), notes))
        print("%-17s %3d events  %5d states (%d choices)  %5d checked  %d failed  %s  %.0fs"
              % (name, len(rec.events), len(sts), looked, len(todo), len(failed),
                 " ".join("%s=%d" % kv for kv in sorted(notes.items())) or "-",
                 time.time() - t1), flush=True)
        if only_id is None:
            for st, bad, _ in failed[:SHOW]:
                print("  FAIL %s:%d  %s" % (name, st.id, st.describe(rec).replace("\n", "\n    ")))
                for k, t in bad:
                    print("    %s: %s" % (k, t))
            if len(failed) > SHOW:
                print("  ... %d more failing states of %s (%s); CRASH_ONLY=%s:ID replays one"
                      % (len(failed) - SHOW, name,
                         ", ".join("%s %d" % kv for kv in sorted(kinds.items())), name))
    if only_id is None:
        shutil.rmtree(tmp)
    print("crashcheck: %d states checked, %d failed, %.0f s"
          % (sum(r[3] for r in rows), total_bad, time.time() - t0))
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
