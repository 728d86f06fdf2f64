"""3.3 AsyncRemoteBackend: `await backend` and `async for update in backend` give the saves"""

import asyncio

NOT_FOR = {"0.5": "AsyncRemoteBackend is nnsight 0.8's", "0.7": "AsyncRemoteBackend is nnsight 0.8's"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    if not remote:
        with model.trace(PROMPT):
            logits = model.lm_head.output.save()
        with model.trace(PROMPT):
            hidden = model.transformer.h[1].output.save()
        return {"logits": logits, "hidden": hidden, "statuses": ["COMPLETED"]}
    from nnsight.intervention.backends.remote import AsyncRemoteBackend

    backend = AsyncRemoteBackend(model.to_model_key())
    with model.trace(PROMPT, backend=backend):
        logits = model.lm_head.output.save()
    awaited = asyncio.run(_await(backend))

    backend = AsyncRemoteBackend(model.to_model_key())
    with model.trace(PROMPT, backend=backend):
        hidden = model.transformer.h[1].output.save()
    updates = asyncio.run(_collect(backend))
    statuses = [u.status.value for u in updates[:-1]]
    assert isinstance(updates[-1], dict), updates[-1]
    assert backend.meta is not None
    return {"logits": awaited["logits"], "hidden": updates[-1]["hidden"], "statuses": statuses[-1:]}


async def _await(backend):
    return await backend


async def _collect(backend):
    return [u async for u in backend]
