"""36.7 a cache declared in one invoke keeps that invoke's rows only"""

import nnsight
import torch



def run(model, remote):
    with model.trace(remote=remote) as tracer:
        with tracer.invoke("The Eiffel Tower is in the city of"):
            pass
        with tracer.invoke("Hello"):
            cache = tracer.cache(modules=["model.transformer.h.1"])
    return {"h1": cache["model.transformer.h.1"].output}
