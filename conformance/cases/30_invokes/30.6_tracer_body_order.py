"""30.6 tracer-body statements run before the invokes, in nnsight's order"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(remote=remote) as tracer:
        order = nnsight.save([])
        order.append("body start")
        with tracer.invoke("The Eiffel Tower"):
            order.append("invoke 1 start")
            model.transformer.h[0].output
            order.append("invoke 1 h0")
            model.transformer.h[1].output
            order.append("invoke 1 h1")
        with tracer.invoke("Hello world"):
            order.append("invoke 2 start")
            model.transformer.h[0].output
            order.append("invoke 2 h0")
        order.append("body end")
    return {"order": order}
