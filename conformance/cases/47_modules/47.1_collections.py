"""47.1 collections in a trace: Counter, defaultdict, deque and namedtuple for bookkeeping on CPU values"""

import collections
from collections import Counter, defaultdict, deque, namedtuple

import nnsight

PROMPT = "The Eiffel Tower is in the city of the tower"
SPEC = "semantics.md §1.3 Three kinds of body"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        ids = model.transformer.wte.input[0].tolist()
        counts = Counter(ids)
        counts.update([ids[0], ids[0]])
        top = counts.most_common(3)
        by_parity = defaultdict(list)
        for i in ids:
            by_parity[i % 2].append(i)
        recent = deque(maxlen=3)
        for i in ids:
            recent.append(i)
        recent.appendleft(-1)
        Pair = namedtuple("Pair", ["token", "count"])
        pairs = [Pair(t, c) for t, c in top]
        first = pairs[0]
        token, count = first
        out = nnsight.save({
            "top": top,
            "total": counts.total(),
            "missing": counts[123456],
            "counts": dict(counts),
            "sum": dict(counts + Counter({ids[1]: 5})),
            "groups": dict(by_parity),
            "keys": sorted(by_parity.keys()),
            "recent": list(recent),
            "len": len(recent),
            "pair": (first.token, first.count, token, count, first[1], len(first)),
            "asdict": first._asdict(),
            "replaced": tuple(first._replace(count=0)),
            "repr": [repr(first), repr(Counter("abca")), repr(deque([1, 2], maxlen=2))],
            "ordered": list(collections.OrderedDict([("b", 1), ("a", 2)]).items()),
        })
    return {"out": out}
