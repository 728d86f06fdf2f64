# torch.nn for intervention code, in the Python the interpreter runs: the classes a
# shipped module instance (an SAE, a probe, a small adapter defined in the user's script)
# is loaded into, with PyTorch's forward of each layer. A module's `_parameters`,
# `_buffers` and `_modules` arrive as pickled; attributes resolve through them as in
# torch.nn.Module.__getattr__.
import math

import torch
import torch.nn.functional as F


class Module:
    training = False

    def __init__(self, *args, **kwargs):
        d = self.__dict__
        d["training"] = False
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_modules"] = {}

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            table = d.get(key)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            table = d.get(key)
            if table is not None and name in table:
                table[name] = value
                return
        if isinstance(value, Module) and "_modules" in d:
            d["_modules"][name] = value
            return
        d[name] = value

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def named_children(self):
        return list(self.__dict__.get("_modules", {}).items())

    def children(self):
        return [m for _, m in self.named_children()]

    def named_modules(self, prefix=""):
        out = [(prefix, self)]
        for name, m in self.named_children():
            if m is not None:
                out.extend(m.named_modules(f"{prefix}.{name}" if prefix else name))
        return out

    def modules(self):
        return [m for _, m in self.named_modules()]

    def named_parameters(self, prefix="", recurse=True):
        out = []
        for mod_prefix, m in (self.named_modules(prefix) if recurse else [(prefix, self)]):
            for name, p in m.__dict__.get("_parameters", {}).items():
                if p is not None:
                    out.append((f"{mod_prefix}.{name}" if mod_prefix else name, p))
        return out

    def parameters(self, recurse=True):
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def named_buffers(self, prefix="", recurse=True):
        out = []
        for mod_prefix, m in (self.named_modules(prefix) if recurse else [(prefix, self)]):
            for name, b in m.__dict__.get("_buffers", {}).items():
                if b is not None:
                    out.append((f"{mod_prefix}.{name}" if mod_prefix else name, b))
        return out

    def buffers(self, recurse=True):
        return [b for _, b in self.named_buffers(recurse=recurse)]

    def state_dict(self):
        return dict(self.named_parameters() + self.named_buffers())

    def train(self, mode=True):
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        return None

    def _apply(self, fn):
        for m in self.modules():
            for table in (m.__dict__.get("_parameters", {}), m.__dict__.get("_buffers", {})):
                for name in list(table):
                    if table[name] is not None:
                        table[name] = fn(table[name])
        return self

    def to(self, *args, **kwargs):
        return self._apply(lambda t: t.to(*args, **kwargs))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def float(self):
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def half(self):
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def __repr__(self):
        return f"{type(self).__name__}()"


def Parameter(data=None, requires_grad=True):
    if data is None:
        data = torch.empty(0)
    return data.detach().requires_grad_(requires_grad)


class Identity(Module):
    def forward(self, input):
        return input


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        bound = 1 / math.sqrt(in_features) if in_features > 0 else 0
        self._parameters["weight"] = Parameter(torch.empty(out_features, in_features, dtype=dtype).uniform_(-bound, bound))
        self._parameters["bias"] = Parameter(torch.empty(out_features, dtype=dtype).uniform_(-bound, bound)) if bias else None

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)


class ReLU(Module):
    def forward(self, input):
        return F.relu(input)


class GELU(Module):
    approximate = "none"

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)


class SiLU(Module):
    def forward(self, input):
        return F.silu(input)


class Sigmoid(Module):
    def forward(self, input):
        return torch.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return torch.tanh(input)


class Softmax(Module):
    dim = None

    def forward(self, input):
        return F.softmax(input, self.dim)


class Dropout(Module):
    p = 0.5

    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class LayerNorm(Module):
    eps = 1e-5

    def forward(self, input):
        return F.layer_norm(input, tuple(self.normalized_shape), self.weight, self.bias, self.eps)


class Embedding(Module):
    padding_idx = None

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)


class ModuleList(Module):
    def __getitem__(self, i):
        return self.children()[i]

    def __len__(self):
        return len(self.children())

    def __iter__(self):
        return iter(self.children())


class Sequential(ModuleList):
    def forward(self, input):
        for m in self.children():
            input = m(input)
        return input


class ModuleDict(Module):
    def __getitem__(self, key):
        return self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()
