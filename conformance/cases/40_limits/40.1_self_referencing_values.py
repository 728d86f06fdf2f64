"""40.1 self-referencing containers can be compared, printed and saved"""

import nnsight

SERVER_ONLY = True


def run(model):
    with model.trace("The Eiffel Tower", remote=True):
        a = [1]
        a.append(a)
        d = {"k": 1}
        d["self"] = d
        print(a, d)
        same = nnsight.save(a == a)
        text = nnsight.save(repr(a) + " " + repr(d))
        saved = nnsight.save(a)
        b = [1]
        c = [1, b]
        b.append(c)
        try:
            b == c
            mutual = "equal"
        except RecursionError as e:
            mutual = str(e)
        mutual = nnsight.save(mutual)
    assert same is True
    assert text == "[1, [...]] {'k': 1, 'self': {...}}", text
    assert saved[1] is saved and saved[0] == 1
    assert mutual == "maximum recursion depth exceeded in comparison", mutual
