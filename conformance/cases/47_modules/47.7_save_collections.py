"""47.7 a saved Counter, defaultdict or deque comes back to the client as that type"""

from collections import Counter, defaultdict, deque

import nnsight

PROMPT = "The Eiffel Tower is in the city of the tower"
SPEC = "semantics.md §4.1 save"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        ids = model.transformer.wte.input[0].tolist()
        counts = nnsight.save(Counter(ids))
        groups = defaultdict(list)
        for i, t in enumerate(ids):
            groups[t % 3].append(i)
        groups = nnsight.save(groups)
        totals = defaultdict(int)
        totals["n"] += len(ids)
        totals = nnsight.save(totals)
        recent = nnsight.save(deque(ids, maxlen=4))
    return {"counts": counts, "groups": groups, "totals": totals, "recent": recent}
