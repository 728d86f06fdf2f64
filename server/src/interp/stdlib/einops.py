# einops for intervention code, in the Python the interpreter runs: rearrange, reduce and
# repeat on torch tensors, with einops' pattern language (names, `(composite axes)`,
# `...`, `1` / `()` for unit axes, lengths given as keyword arguments) and its errors'
# wording where it matters, lowered to reshape / permute / a reduction / expand.

import torch

__all__ = ["rearrange", "reduce", "repeat", "EinopsError"]


class EinopsError(ValueError):
    pass


def _parse_side(side):
    groups = []
    current = None
    has_ellipsis = False
    text = side.replace("(", " ( ").replace(")", " ) ")
    for tok in text.split():
        if tok == "(":
            if current is not None:
                raise EinopsError("Axis composition is one-level (brackets inside brackets not allowed)")
            current = []
        elif tok == ")":
            if current is None:
                raise EinopsError("Brackets are not balanced")
            groups.append(current)
            current = None
        elif tok == "...":
            if has_ellipsis:
                raise EinopsError("Expression may contain dots only inside ellipsis (...)")
            has_ellipsis = True
            if current is None:
                groups.append("...")
            else:
                current.append("...")
        elif tok == "1":
            if current is None:
                groups.append([])
        elif tok.isidentifier():
            if current is None:
                groups.append([tok])
            else:
                current.append(tok)
        else:
            raise EinopsError(f"Invalid axis identifier: {tok}")
    if current is not None:
        raise EinopsError("Brackets are not balanced")
    return groups, has_ellipsis


def _expand_ellipsis(groups, n):
    names = [f"...{i}" for i in range(n)]
    out = []
    for g in groups:
        if g == "...":
            for name in names:
                out.append([name])
        elif "..." in g:
            i = g.index("...")
            out.append(g[:i] + names + g[i + 1:])
        else:
            out.append(g)
    return out


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def _apply(tensor, pattern, reduction, axes_lengths, op):
    if "->" not in pattern:
        raise EinopsError("Pattern must contain '->'")
    left_text, right_text = pattern.split("->")
    left, left_ell = _parse_side(left_text)
    right, right_ell = _parse_side(right_text)
    if right_ell and not left_ell:
        raise EinopsError("Ellipsis found in right side, but not left side of a pattern")
    shape = list(tensor.shape)
    if left_ell:
        n_ell = len(shape) - (len(left) - 1)
        if n_ell < 0:
            raise EinopsError(f"Wrong shape: expected >={len(left) - 1} dims. Received {len(shape)}-dim tensor.")
        left = _expand_ellipsis(left, n_ell)
        right = _expand_ellipsis(right, n_ell)
    if len(left) != len(shape):
        raise EinopsError(f"Wrong shape: expected {len(left)} dims. Received {len(shape)}-dim tensor.")
    lengths = dict(axes_lengths)
    for g, size in zip(left, shape):
        unknown = [a for a in g if a not in lengths]
        known = _prod([lengths[a] for a in g if a in lengths])
        if len(unknown) > 1:
            raise EinopsError(f"Could not infer sizes for {set(unknown)}")
        if unknown:
            if known == 0 or size % known != 0:
                raise EinopsError(f"Shape mismatch, can't divide axis of length {size} in chunks of {known}")
            lengths[unknown[0]] = size // known
        elif known != size:
            raise EinopsError(f"Shape mismatch, {size} != {known}")
    left_axes = [a for g in left for a in g]
    right_axes = [a for g in right for a in g]
    if len(set(left_axes)) != len(left_axes) or len(set(right_axes)) != len(right_axes):
        raise EinopsError("Indexing expression contains duplicate dimension")
    x = tensor.reshape([lengths[a] for a in left_axes])
    if op == "rearrange" and set(left_axes) != set(right_axes):
        raise EinopsError(f"Identifiers only on one side of expression (should be on both): {set(left_axes) ^ set(right_axes)}")
    reduced = [a for a in left_axes if a not in right_axes]
    if op == "reduce" and reduced:
        dims = [left_axes.index(a) for a in reduced]
        if callable(reduction):
            x = reduction(x, tuple(dims))
        elif reduction == "sum":
            x = x.sum(dim=dims)
        elif reduction == "mean":
            x = x.mean(dim=dims)
        elif reduction == "prod":
            for d in sorted(dims, reverse=True):
                x = x.prod(dim=d)
        elif reduction == "max":
            for d in sorted(dims, reverse=True):
                x = x.max(dim=d).values
        elif reduction == "min":
            for d in sorted(dims, reverse=True):
                x = x.min(dim=d).values
        elif reduction == "any":
            for d in sorted(dims, reverse=True):
                x = x.any(dim=d)
        elif reduction == "all":
            for d in sorted(dims, reverse=True):
                x = x.all(dim=d)
        else:
            raise EinopsError(f"Unknown reduction {reduction}")
        left_axes = [a for a in left_axes if a not in reduced]
    elif reduced:
        raise EinopsError(f"Identifiers only on one side of expression (should be on both): {set(reduced)}")
    new = [a for a in right_axes if a not in left_axes]
    if new and op != "repeat":
        raise EinopsError(f"Identifiers only on one side of expression (should be on both): {set(new)}")
    for a in new:
        if a not in axes_lengths:
            raise EinopsError(f"Specify sizes for new axes in repeat: {set(new)}")
    kept = [a for a in right_axes if a in left_axes]
    x = x.permute([left_axes.index(a) for a in kept])
    if new:
        view = []
        expand = []
        for a in right_axes:
            view.append(lengths[a] if a in left_axes else 1)
            expand.append(lengths[a] if a in left_axes else axes_lengths[a])
        x = x.reshape(view).expand(expand)
    return x.reshape([_prod([lengths[a] if a in lengths else axes_lengths[a] for a in g]) for g in right])


def rearrange(tensor, pattern, **axes_lengths):
    if isinstance(tensor, (list, tuple)):
        tensor = torch.stack(list(tensor))
    return _apply(tensor, pattern, None, axes_lengths, "rearrange")


def reduce(tensor, pattern, reduction, **axes_lengths):
    if isinstance(tensor, (list, tuple)):
        tensor = torch.stack(list(tensor))
    return _apply(tensor, pattern, reduction, axes_lengths, "reduce")


def repeat(tensor, pattern, **axes_lengths):
    if isinstance(tensor, (list, tuple)):
        tensor = torch.stack(list(tensor))
    return _apply(tensor, pattern, None, axes_lengths, "repeat")
