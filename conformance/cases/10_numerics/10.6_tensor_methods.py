"""10.6 the first tensor methods: argmax, sum, shape, clone, detach, cpu, indexing, nnsight.save"""

import nnsight


def run(model, remote):
    with model.trace("The Eiffel Tower is in the city of", remote=remote):
        every_other = model.transformer.h[0].output[0, ::2, 1:5].save()
        logits = model.lm_head.output
        top = logits[0, -1].argmax(dim=-1).save()
        total = logits.sum().save()
        width = nnsight.save(logits.shape[-1])
        last = logits[:, -1, :].clone().detach().cpu().save()
    return {"top": top, "total": total, "width": width, "last": last, "every_other": every_other}
