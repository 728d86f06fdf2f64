//! Builtin types as static type objects: names for messages and `type(x)`, the exception
//! hierarchy `except` clauses match against, and the bases user classes may extend.

use std::fmt;
use std::rc::Rc;

use super::object::Class;

pub struct TypeObj {
    pub name: &'static str,
    /// `builtins` for Python's own; where the client would import it from otherwise.
    pub module: &'static str,
    pub base: Option<&'static TypeObj>,
}

impl TypeObj {
    pub fn is_subtype(&'static self, of: &'static TypeObj) -> bool {
        // numpy.float64 derives from both numpy.floating and Python's float (and
        // numpy.AxisError from IndexError as well as ValueError), as in CPython.
        if (std::ptr::eq(self, &NP_FLOAT64) && std::ptr::eq(of, &FLOAT))
            || (std::ptr::eq(self, &NP_AXIS_ERROR) && INDEX_ERROR.is_subtype(of))
        {
            return true;
        }
        let mut t = Some(self);
        while let Some(ty) = t {
            if std::ptr::eq(ty, of) {
                return true;
            }
            t = ty.base;
        }
        false
    }

    /// `module.Name`, or just `Name` for builtins (how tracebacks print exception types).
    pub fn qualified(&self) -> String {
        if self.module == "builtins" {
            self.name.to_string()
        } else {
            format!("{}.{}", self.module, self.name)
        }
    }
}

impl fmt::Debug for TypeObj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<class '{}'>", self.qualified())
    }
}

macro_rules! types {
    ($($id:ident = $name:literal in $module:literal $(: $base:ident)?;)*) => {
        $(pub static $id: TypeObj = TypeObj { name: $name, module: $module, base: types!(@base $($base)?) };)*
        /// Builtin types by name (for `except Name:` and `isinstance(x, Name)` lookups).
        pub static BY_NAME: &[&TypeObj] = &[$(&$id),*];
    };
    (@base) => { None };
    (@base $b:ident) => { Some(&$b) };
}

types! {
    OBJECT = "object" in "builtins";
    TYPE = "type" in "builtins": OBJECT;
    NONE_TYPE = "NoneType" in "builtins": OBJECT;
    INT = "int" in "builtins": OBJECT;
    BOOL = "bool" in "builtins": INT;
    FLOAT = "float" in "builtins": OBJECT;
    COMPLEX = "complex" in "builtins": OBJECT;
    STR = "str" in "builtins": OBJECT;
    BYTES = "bytes" in "builtins": OBJECT;
    LIST = "list" in "builtins": OBJECT;
    TUPLE = "tuple" in "builtins": OBJECT;
    DICT = "dict" in "builtins": OBJECT;
    SET = "set" in "builtins": OBJECT;
    FROZENSET = "frozenset" in "builtins": OBJECT;
    RANGE = "range" in "builtins": OBJECT;
    SLICE = "slice" in "builtins": OBJECT;
    ELLIPSIS = "ellipsis" in "builtins": OBJECT;
    NOT_IMPLEMENTED = "NotImplementedType" in "builtins": OBJECT;
    FUNCTION = "function" in "builtins": OBJECT;
    BUILTIN_FUNCTION = "builtin_function_or_method" in "builtins": OBJECT;
    METHOD = "method" in "builtins": OBJECT;
    MODULE = "module" in "builtins": OBJECT;
    PROPERTY = "property" in "builtins": OBJECT;
    STATICMETHOD = "staticmethod" in "builtins": OBJECT;
    CLASSMETHOD = "classmethod" in "builtins": OBJECT;
    SUPER = "super" in "builtins": OBJECT;
    ITERATOR = "iterator" in "builtins": OBJECT;
    GENERATOR = "generator" in "builtins": OBJECT;
    TENSOR = "Tensor" in "torch": OBJECT;
    PARAMETER = "Parameter" in "torch.nn.parameter": TENSOR;
    SIZE = "Size" in "torch": TUPLE;
    DTYPE = "dtype" in "torch": OBJECT;
    DEVICE = "device" in "torch": OBJECT;
    TORCH_GENERATOR = "Generator" in "torch": OBJECT;
    NDARRAY = "ndarray" in "numpy": OBJECT;
    NP_DTYPE = "dtype" in "numpy": OBJECT;
    NP_GENERIC = "generic" in "numpy": OBJECT;
    NP_NUMBER = "number" in "numpy": NP_GENERIC;
    NP_INTEGER = "integer" in "numpy": NP_NUMBER;
    NP_SIGNEDINTEGER = "signedinteger" in "numpy": NP_INTEGER;
    NP_UNSIGNEDINTEGER = "unsignedinteger" in "numpy": NP_INTEGER;
    NP_INEXACT = "inexact" in "numpy": NP_NUMBER;
    NP_FLOATING = "floating" in "numpy": NP_INEXACT;
    NP_BOOL = "bool" in "numpy": NP_GENERIC;
    NP_INT8 = "int8" in "numpy": NP_SIGNEDINTEGER;
    NP_INT16 = "int16" in "numpy": NP_SIGNEDINTEGER;
    NP_INT32 = "int32" in "numpy": NP_SIGNEDINTEGER;
    NP_INT64 = "int64" in "numpy": NP_SIGNEDINTEGER;
    NP_UINT8 = "uint8" in "numpy": NP_UNSIGNEDINTEGER;
    NP_FLOAT16 = "float16" in "numpy": NP_FLOATING;
    NP_FLOAT32 = "float32" in "numpy": NP_FLOATING;
    NP_FLOAT64 = "float64" in "numpy": NP_FLOATING;
    BASE_EXCEPTION = "BaseException" in "builtins": OBJECT;
    SYSTEM_EXIT = "SystemExit" in "builtins": BASE_EXCEPTION;
    KEYBOARD_INTERRUPT = "KeyboardInterrupt" in "builtins": BASE_EXCEPTION;
    GENERATOR_EXIT = "GeneratorExit" in "builtins": BASE_EXCEPTION;
    EXCEPTION = "Exception" in "builtins": BASE_EXCEPTION;
    STOP_ITERATION = "StopIteration" in "builtins": EXCEPTION;
    ARITHMETIC_ERROR = "ArithmeticError" in "builtins": EXCEPTION;
    ZERO_DIVISION_ERROR = "ZeroDivisionError" in "builtins": ARITHMETIC_ERROR;
    OVERFLOW_ERROR = "OverflowError" in "builtins": ARITHMETIC_ERROR;
    FLOATING_POINT_ERROR = "FloatingPointError" in "builtins": ARITHMETIC_ERROR;
    ASSERTION_ERROR = "AssertionError" in "builtins": EXCEPTION;
    ATTRIBUTE_ERROR = "AttributeError" in "builtins": EXCEPTION;
    LOOKUP_ERROR = "LookupError" in "builtins": EXCEPTION;
    INDEX_ERROR = "IndexError" in "builtins": LOOKUP_ERROR;
    KEY_ERROR = "KeyError" in "builtins": LOOKUP_ERROR;
    NAME_ERROR = "NameError" in "builtins": EXCEPTION;
    UNBOUND_LOCAL_ERROR = "UnboundLocalError" in "builtins": NAME_ERROR;
    RUNTIME_ERROR = "RuntimeError" in "builtins": EXCEPTION;
    NOT_IMPLEMENTED_ERROR = "NotImplementedError" in "builtins": RUNTIME_ERROR;
    RECURSION_ERROR = "RecursionError" in "builtins": RUNTIME_ERROR;
    TYPE_ERROR = "TypeError" in "builtins": EXCEPTION;
    VALUE_ERROR = "ValueError" in "builtins": EXCEPTION;
    UNICODE_ERROR = "UnicodeError" in "builtins": VALUE_ERROR;
    MEMORY_ERROR = "MemoryError" in "builtins": EXCEPTION;
    IMPORT_ERROR = "ImportError" in "builtins": EXCEPTION;
    MODULE_NOT_FOUND_ERROR = "ModuleNotFoundError" in "builtins": IMPORT_ERROR;
    SYNTAX_ERROR = "SyntaxError" in "builtins": EXCEPTION;
    OS_ERROR = "OSError" in "builtins": EXCEPTION;
    WARNING = "Warning" in "builtins": EXCEPTION;
    USER_WARNING = "UserWarning" in "builtins": WARNING;
    DEPRECATION_WARNING = "DeprecationWarning" in "builtins": WARNING;
    OUT_OF_ORDER_ERROR = "OutOfOrderError" in "nnsight.intervention.interleaver": EXCEPTION;
    MISSED_PROVIDER_ERROR = "MissedProviderError" in "nnsight.intervention.interleaver": EXCEPTION;
    EARLY_STOP = "EarlyStopException" in "nnsight.intervention.interleaver": EXCEPTION;
    // nnsight's model classes, for `isinstance(model, LanguageModel)` and for classes the
    // client ships that derive from them. Their MRO differs by client generation (0.7's
    // models derive from `NNsight`, 0.8.1's do not); the mixins are left out.
    ENVOY = "Envoy" in "nnsight.intervention.envoy": OBJECT;
    NNSIGHT = "NNsight" in "nnsight.modeling.base": ENVOY;
    HUGGINGFACE_MODEL = "HuggingFaceModel" in "nnsight.modeling.huggingface": ENVOY;
    TRANSFORMERS_MODEL = "TransformersModel" in "nnsight.modeling.transformers": HUGGINGFACE_MODEL;
    LANGUAGE_MODEL = "LanguageModel" in "nnsight.modeling.language": TRANSFORMERS_MODEL;
    HUGGINGFACE_MODEL_G1 = "HuggingFaceModel" in "nnsight.modeling.huggingface": NNSIGHT;
    TRANSFORMERS_MODEL_G1 = "TransformersModel" in "nnsight.modeling.transformers": HUGGINGFACE_MODEL_G1;
    LANGUAGE_MODEL_G1 = "LanguageModel" in "nnsight.modeling.language": TRANSFORMERS_MODEL_G1;
    NP_AXIS_ERROR = "AxisError" in "numpy.exceptions": VALUE_ERROR;
    NP_UFUNC_CASTING_ERROR = "UFuncTypeError" in "numpy._core._exceptions": TYPE_ERROR;
}

/// The server's stand-in for one of nnsight's model classes (`module.name` as the client
/// pickles it), in the hierarchy of the client generation (`g1`: nnsight 0.5-0.7).
pub fn nnsight_class(module: &str, name: &str, g1: bool) -> Option<&'static TypeObj> {
    Some(match (module, name) {
        ("nnsight.intervention.envoy" | "nnsight", "Envoy") => &ENVOY,
        ("nnsight.modeling.base" | "nnsight", "NNsight") => &NNSIGHT,
        ("nnsight.modeling.huggingface", "HuggingFaceModel") if g1 => &HUGGINGFACE_MODEL_G1,
        ("nnsight.modeling.huggingface", "HuggingFaceModel") => &HUGGINGFACE_MODEL,
        ("nnsight.modeling.transformers", "TransformersModel") if g1 => &TRANSFORMERS_MODEL_G1,
        ("nnsight.modeling.transformers", "TransformersModel") => &TRANSFORMERS_MODEL,
        ("nnsight.modeling.language" | "nnsight", "LanguageModel") if g1 => &LANGUAGE_MODEL_G1,
        ("nnsight.modeling.language" | "nnsight", "LanguageModel") => &LANGUAGE_MODEL,
        _ => return None,
    })
}

/// A class: a builtin type or one user code defined.
#[derive(Clone)]
pub enum ClassRef {
    Builtin(&'static TypeObj),
    User(Rc<Class>),
}

impl ClassRef {
    pub fn name(&self) -> String {
        match self {
            ClassRef::Builtin(t) => t.name.to_string(),
            ClassRef::User(c) => c.name.to_string(),
        }
    }

    /// The qualified name tracebacks print (`ValueError`, `nnsight.…OutOfOrderError`,
    /// `__main__.MyError`).
    pub fn qualified(&self) -> String {
        match self {
            ClassRef::Builtin(t) => t.qualified(),
            ClassRef::User(c) => {
                // Python's traceback omits `__main__.` and `builtins.`.
                if matches!(c.module.as_ref(), "builtins" | "__main__") {
                    c.name.to_string()
                } else {
                    format!("{}.{}", c.module, c.name)
                }
            }
        }
    }

    /// Whether this class is `of` or derives from it.
    pub fn is_subclass(&self, of: &ClassRef) -> bool {
        match of {
            ClassRef::Builtin(t) => self.derives_from_builtin(t),
            ClassRef::User(o) => match self {
                ClassRef::Builtin(_) => false,
                ClassRef::User(c) => c.mro().iter().any(|m| Rc::ptr_eq(m, o)),
            },
        }
    }

    pub fn derives_from_builtin(&self, t: &'static TypeObj) -> bool {
        match self {
            ClassRef::Builtin(b) => b.is_subtype(t),
            ClassRef::User(c) => std::ptr::eq(t, &OBJECT) || c.builtin_base().is_subtype(t),
        }
    }

    pub fn same(&self, other: &ClassRef) -> bool {
        match (self, other) {
            (ClassRef::Builtin(a), ClassRef::Builtin(b)) => std::ptr::eq(*a, *b),
            (ClassRef::User(a), ClassRef::User(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

pub fn builtin_by_name(name: &str) -> Option<&'static TypeObj> {
    BY_NAME
        .iter()
        .copied()
        .find(|t| t.name == name && (t.module == "builtins"))
}
