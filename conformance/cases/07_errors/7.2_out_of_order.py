"""7.2 asking for a module the forward already passed is nnsight's OutOfOrderError"""

import traceback


def run(model, remote):
    try:
        with model.trace("The Eiffel Tower is in the city of", remote=remote):
            late = model.transformer.h[1].output.save()
            early = model.transformer.h[0].output.save()
    except Exception:
        return {"raised": True, "last_line": traceback.format_exc().strip().splitlines()[-1]}
    return {"raised": False}
