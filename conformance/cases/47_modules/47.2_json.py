"""47.2 json in a trace: dumps with CPython's separators, indent, sort_keys and escapes, and loads"""

import json

import nnsight

PROMPT = "The Eiffel Tower is in the city of"
SPEC = "semantics.md §1.3 Three kinds of body"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0, -1, :4].tolist()
        record = {"layer": 0, "values": h, "name": "Eiffel \u00e9 \u2603 \U0001F600 \"q\"\n", "ok": True, "none": None, 3: [1.5, -0.0, 1e-7, 1e20]}
        texts = [
            json.dumps(record),
            json.dumps(record, indent=2, sort_keys=False),
            json.dumps({"b": 1, "a": [1, {"c": []}]}, sort_keys=True, indent="\t"),
            json.dumps(record, ensure_ascii=False, separators=(",", ":")),
            json.dumps([float("nan"), float("inf")]),
            json.dumps("tab\tand \x01"),
        ]
        back = json.loads(texts[0])
        parsed = json.loads('{"a": [1, 2.5, -3e2, true, false, null], "b": "\\u00e9\\ud83d\\ude00", "c": {}}')
        try:
            json.loads('{"a": 1,}')
            err = ""
        except json.JSONDecodeError as e:
            err = str(e)
        try:
            json.dumps({"x": object()})
            err2 = ""
        except TypeError as e:
            err2 = str(e)
        out = nnsight.save({"texts": texts, "back": back, "parsed": parsed, "err": err, "err2": err2})
    return {"out": out}
