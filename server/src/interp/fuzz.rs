//! proptest: random programs — from a small grammar of the constructs intervention code
//! uses, and raw random text — never panic the interpreter; every one ends with a value
//! or a Python error, inside small limits.

use proptest::prelude::*;


/// Runs `src` under tight limits (`crate::fuzz::interpret`); a panic fails the test.
/// Returns whether the program parsed (and so ran).
fn survives(src: String) -> bool {
    crate::fuzz::interpret(src.as_bytes())
}

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1000i64..1000).prop_map(|i| i.to_string()),
        Just("2**70".to_string()),
        (-100.0f64..100.0).prop_map(|f| format!("{f:?}")),
        Just("'ab'".to_string()),
        Just("[1, 2, 3]".to_string()),
        Just("(1, 'x')".to_string()),
        Just("{'k': 1}".to_string()),
        Just("{1, 2}".to_string()),
        Just("None".to_string()),
        Just("True".to_string()),
        Just("x".to_string()),
        Just("xs".to_string()),
        Just("torch.arange(6.0).view(2, 3)".to_string()),
        Just("range(4)".to_string()),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    atom().prop_recursive(4, 32, 3, |inner| {
        let ops = prop::sample::select(vec!["+", "-", "*", "/", "//", "%", "**", "==", "<", "&", "|", "in", "is", "and", "or", "@"]);
        prop_oneof![
            (inner.clone(), ops, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a})[{b}]")),
            (inner.clone(), any::<i8>(), any::<i8>()).prop_map(|(a, i, j)| format!("({a})[{i}:{j}]")),
            (prop::sample::select(vec!["len", "str", "repr", "sorted", "list", "abs", "min", "max", "sum", "hash", "bool", "int", "float", "tuple", "set"]), inner.clone())
                .prop_map(|(f, a)| format!("{f}({a})")),
            (inner.clone(), prop::sample::select(vec!["append(1)", "sum()", "shape", "keys()", "upper()", "T", "tolist()", "clone()", "view(-1)"]))
                .prop_map(|(a, m)| format!("({a}).{m}")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("({a} if {b} else {c})")),
            inner.clone().prop_map(|a| format!("[v for v in {a}]")),
            inner.prop_map(|a| format!("f\"{{({a})!r:>5}}\"")),
        ]
    })
}

fn stmt() -> impl Strategy<Value = String> {
    prop_oneof![
        expr().prop_map(|e| format!("x = {e}")),
        expr().prop_map(|e| format!("xs.append({e})")),
        expr().prop_map(|e| format!("xs[0] = {e}")),
        expr().prop_map(|e| format!("print({e})")),
        expr().prop_map(|e| format!("x += {e}")),
        expr().prop_map(|e| format!("for v in {e}:\n    xs.append(v)")),
        expr().prop_map(|e| format!("if {e}:\n    x = 1\nelse:\n    x = 2")),
        expr().prop_map(|e| format!("try:\n    x = {e}\nexcept Exception as err:\n    x = str(err)")),
        expr().prop_map(|e| format!("def f(a, b=1):\n    return {e}\nx = f(x)")),
        Just("xs.append(xs)".to_string()),
        Just("x = [x]".to_string()),
        Just("while len(xs) < 50:\n    xs.append(len(xs))".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_never_panic(stmts in prop::collection::vec(stmt(), 1..8)) {
        let src = format!("import torch\nx = 1\nxs = [0]\n{}", stmts.join("\n"));
        prop_assert!(survives(src.clone()), "a grammar program did not parse:\n{}", src);
    }

    #[test]
    fn random_text_never_panics(src in "\\PC{0,200}") {
        let _ = survives(src);
    }
}
