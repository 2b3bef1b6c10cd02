"""states.py: the states a power cut may leave, under the model stated in
docs/RELIABILITY.md ("Power cuts"):

  A cut after event C (events 0..C-1 happened, nothing after).
  * A file's data events before its last completed fsync (or a sync of
    everything) are kept.  Of its later ones a prefix is kept: the first K
    whole, and the next one may be torn at a 4 KiB boundary of the file
    (its bytes up to that boundary kept, the rest and every later one lost).
  * Directory events (create, link, unlink, rename) before the last
    completed fsync of the spool directory are kept.  Each later one may be
    lost, independently, except that events on the same name stay in order:
    one that is kept keeps every earlier unsynced one that shares a name
    with it.
  * File attributes (owner, mode, times) are not modelled: each file is
    its user's, as everything in a user's part of the spool is (root's
    files are trusted alike); dotlocks are made older than LOCK_STALE_S, so
    the next locker judges them from their record as it would after ten
    minutes (a lock that would shut the mailbox until then is reported).

Where the choices at a crash point are more than CAP, CAP of them are drawn
with a fixed seed; states that leave the same files (and the same replies
given) count once.  A state's id is its place in that order, so it names
the same state for the same recording.
"""
import hashlib
import itertools
import random

BLOCK = 4096


class State:
    """Files by name, each (inode number, bytes, version, torn), the acks
    given, and what was kept and dropped, for the report."""
    __slots__ = ("id", "cut", "files", "acks", "kept", "dropped", "key")

    def describe(self, rec):
        ev = rec.events
        lines = ["cut after event %d of %d%s" % (
            self.cut, len(ev), (": " + ev[self.cut - 1].desc) if self.cut else " (before any)")]
        if self.kept:
            lines.append("  unsynced, kept: " + "; ".join(self.kept))
        if self.dropped:
            lines.append("  unsynced, lost: " + "; ".join(self.dropped))
        return "\n".join(lines)


def _last_sync(events, c, pred):
    """Index of the last sync event before C matching PRED, or -1."""
    for i in range(c - 1, -1, -1):
        e = events[i]
        if e.kind == "sync" and (e.ino is None or pred(e.ino)):
            return i
    return -1


def _ino_options(events, idxs):
    """The choices for one inode's pending data events IDXS: (k, cut) keeps
    the first K whole and, when CUT is set, the next one up to file offset
    CUT."""
    opts = [(k, None) for k in range(len(idxs) + 1)]
    for k, i in enumerate(idxs):
        op = events[i].op
        if op[0] == "w":
            off, end = op[1], op[1] + len(op[2])
            for b in range((off // BLOCK + 1) * BLOCK, end, BLOCK):
                opts.append((k, b))
    return opts


def _ns_subsets(events, idxs, cap, rng):
    """Subsets of the pending directory events IDXS (one boolean each) that
    keep, with each kept event, every earlier pending one sharing a name
    with it: all of them when there are at most CAP, else CAP drawn by RNG
    (each event kept with even odds where it may be)."""
    deps = []
    for a, i in enumerate(idxs):
        names = events[i].names()
        deps.append([b for b in range(a) if events[idxs[b]].names() & names])
    out = []

    def walk(a, chosen):
        if len(out) > cap:
            return
        if a == len(idxs):
            out.append(tuple(chosen))
            return
        walk(a + 1, chosen + [False])
        if all(chosen[b] for b in deps[a]):
            walk(a + 1, chosen + [True])
    walk(0, [])
    if len(out) <= cap:
        return out
    out = []
    for _ in range(cap):
        chosen = []
        for a in range(len(idxs)):
            chosen.append(all(chosen[b] for b in deps[a]) and rng.random() < 0.5)
        out.append(tuple(chosen))
    return out


def enumerate_states(rec, cap):
    """Every distinct state of REC's run under the model (at most CAP
    choices per crash point), in a fixed order.  Returns (states, choices
    looked at)."""
    events = rec.events
    states, seen, looked = [], set(), 0
    for c in range(len(events) + 1):
        rng = random.Random(1000003 * c + 17)
        per_ino = {}
        for i in range(c):
            if events[i].kind == "data":
                per_ino.setdefault(events[i].ino, []).append(i)
        pend, durable = {}, {}
        for n, idxs in per_ino.items():
            s = _last_sync(events, c, lambda x, n=n: x == n)
            durable[n] = [i for i in idxs if i < s]
            p = [i for i in idxs if i > s]
            if p:
                pend[n] = p
        ns = [i for i in range(c) if events[i].kind == "ns"]
        s = _last_sync(events, c, lambda x: x == rec.dir)
        ns_durable = [i for i in ns if i < s]
        ns_pend = [i for i in ns if i > s]
        acks = tuple(events[i].tag for i in range(c) if events[i].kind == "ack")
        inos = sorted(pend)
        dims = [_ino_options(events, pend[n]) for n in inos]
        subsets = _ns_subsets(events, ns_pend, cap, rng)
        total = len(subsets)
        for d in dims:
            total *= len(d)
        if total <= cap:
            combos = itertools.product(subsets, *dims)
        else:
            combos = [tuple([rng.choice(subsets)] + [rng.choice(d) for d in dims])
                      for _ in range(cap)]
        for combo in combos:
            looked += 1
            st = _build(rec, c, ns_durable, ns_pend, combo[0], durable,
                        dict(zip(inos, combo[1:])), pend, acks)
            if st.key in seen:
                continue
            seen.add(st.key)
            st.id = len(states)
            states.append(st)
    return states, looked


def _build(rec, c, ns_durable, ns_pend, chosen, durable, choice, pend, acks):
    events = rec.events
    names = dict(rec.init_names)
    kept, dropped = [], []
    keep_ns = list(ns_durable) + [i for i, k in zip(ns_pend, chosen) if k]
    for i, k in zip(ns_pend, chosen):
        (kept if k else dropped).append(events[i].desc)
    for i in sorted(keep_ns):
        for name, n in events[i].binds:
            if n is None:
                names.pop(name, None)
            else:
                names[name] = n
    content = {}
    for name, n in names.items():
        if n in content:
            continue
        data = bytearray(rec.inodes[n].init)
        ops = list(durable.get(n, []))
        k, cut = choice.get(n, (len(pend.get(n, [])), None))
        p = pend.get(n, [])
        ops += p[:k]
        for i in ops:
            _apply(data, events[i].op, None)
        torn = False
        if cut is not None:
            _apply(data, events[p[k]].op, cut)
            torn = True
        content[n] = (bytes(data), len(ops), torn)
    for n, idxs in pend.items():
        k, cut = choice[n]
        for j, i in enumerate(idxs):
            d = events[i].desc
            if j < k:
                kept.append(d)
            elif j == k and cut is not None:
                kept.append("%s torn at %d" % (d, cut))
            else:
                dropped.append(d)
    st = State()
    st.cut, st.acks, st.kept, st.dropped = c, acks, kept, dropped
    st.files = {name: (n,) + content[n] for name, n in names.items()}
    # The same files (by content, with their links and, for mailboxes,
    # their version, which decides whether an index's stamp is theirs)
    # and the same replies given: the same state.
    group = {}
    key = []
    for name in sorted(names):
        n, data, ver, torn = st.files[name]
        g = group.setdefault(n, len(group))
        mailbox = not name.startswith(b".") and not name.endswith(b".lock")
        key.append((name, hashlib.sha1(data).digest(), g,
                    (ver, torn) if mailbox else None))
    st.key = (tuple(key), acks)
    return st


def _apply(data, op, cut):
    if op[0] == "t":
        del data[op[1]:]
        if len(data) < op[1]:
            data.extend(b"\0" * (op[1] - len(data)))
        return
    off, b = op[1], op[2]
    if cut is not None:
        b = b[:cut - off]
    if len(data) < off:
        data.extend(b"\0" * (off - len(data)))
    data[off:off + len(b)] = b
