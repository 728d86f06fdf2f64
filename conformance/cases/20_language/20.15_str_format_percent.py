"""20.15 str.format and % formatting"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save(["{} and {}".format(1, "b"), "{1}{0}".format("x", "y"), "{name}:{v:.1e}".format(name="n", v=12345.678),
                          "%d items at %.2f" % (3, 2.5), "%s|%r|%5s|%-5s|" % ("a", "b", "c", "d"), "%x %o %e" % (255, 8, 1.5),
                          "%(k)s=%(v)d" % {"k": "key", "v": 7}])
    return {"a": a}
