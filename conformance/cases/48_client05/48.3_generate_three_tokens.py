"""48.3 first steps of any client version: a generation of 3 tokens, its ids and a hidden state"""

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote):
        hidden = model.transformer.h[-1].output.save()
        ids = model.generator.output.save()
    return {"hidden": hidden, "ids": ids}
