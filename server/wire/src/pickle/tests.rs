//! Opcode semantics of the VM, on hand-written pickles (checked against CPython's
//! `pickle.loads` where no class is involved).

use super::*;

fn decoded(bytes: &[u8]) -> (Graph, Id) {
    let graph = decode(bytes).unwrap_or_else(|e| panic!("{e}"));
    let root = graph.root;
    (graph, root)
}

fn error(bytes: &[u8]) -> PickleError {
    decode(bytes).expect_err("decoding should fail")
}

#[test]
fn dict_memoized_empty_then_filled_is_seen_filled_through_binget() {
    // EMPTY_DICT BINPUT 0, MARK 'a' 1 SETITEMS, BINGET 0, TUPLE2
    let (g, root) = decoded(b"\x80\x02}q\x00(X\x01\x00\x00\x00aK\x01uh\x00\x86.");
    let items = g.tuple_items(root).unwrap();
    assert_eq!(items[0], items[1], "BINGET must share the memoized node");
    assert_eq!(g.canon(root), r#"({"a": 1}, {"a": 1})"#);
}

#[test]
fn self_recursive_list_is_a_cycle() {
    // EMPTY_LIST BINPUT 0, BINGET 0, APPEND
    let (g, root) = decoded(b"\x80\x02]q\x00h\x00a.");
    assert_eq!(g.tuple_items(root), Some(&[root][..]));
    assert_eq!(g.canon(root), "[<cycle>]");
}

#[test]
fn build_on_memoized_object_is_visible_through_the_memo() {
    // GLOBAL mod.Cls, EMPTY_TUPLE NEWOBJ BINPUT 1, EMPTY_DICT 'a' 1 SETITEM BUILD, BINGET 1, TUPLE2
    let (g, root) =
        decoded(b"\x80\x02cmod\nCls\nq\x00)\x81q\x01}X\x01\x00\x00\x00aK\x01sbh\x01\x86.");
    let items = g.tuple_items(root).unwrap();
    assert_eq!(items[0], items[1]);
    let obj = g.obj(items[1]).unwrap();
    assert!(obj.newobj);
    assert_eq!(obj.state.len(), 1);
    assert_eq!(
        g.dict_get(obj.state[0], "a").and_then(|v| g.as_int(v)),
        Some(1)
    );
    assert_eq!(g.global(items[1]), Some(("mod", "Cls")));
    assert_eq!(g.canon(items[1]), r#"NEW(G<mod.Cls>; ()).build({"a": 1})"#);
}

#[test]
fn build_on_a_plain_value_wraps_it_in_place() {
    // EMPTY_LIST BINPUT 0, EMPTY_DICT BUILD, BINGET 0, TUPLE2
    let (g, root) = decoded(b"\x80\x02]q\x00}bh\x00\x86.");
    let items = g.tuple_items(root).unwrap();
    assert_eq!(items[0], items[1]);
    let obj = g.obj(items[0]).expect("wrapped into an object");
    assert_eq!(g.node(obj.callable), Some(&Node::List(vec![])));
    assert_eq!(obj.args, None);
    assert_eq!(g.canon(items[1]), "WRAP([]).build({})");
}

#[test]
fn stack_global_keeps_a_dotted_qualname() {
    let (g, root) =
        decoded(b"\x80\x04\x8c\x1dnnsight.modeling.transformers\x94\x8c\x17TransformersModel._call\x94\x93.");
    assert_eq!(
        g.global(root),
        Some(("nnsight.modeling.transformers", "TransformersModel._call"))
    );
}

#[test]
fn stack_global_needs_str_operands() {
    let e = error(b"\x80\x04K\x01K\x02\x93.");
    assert_eq!((e.offset, e.kind), (6, ErrorKind::StackGlobalOperands));
}

#[test]
fn truncation_error_carries_the_opcode_offset() {
    let e = error(b"\x80\x02X\x05\x00\x00\x00ab");
    assert_eq!(e.offset, 2);
    assert_eq!(
        e.kind,
        ErrorKind::Truncated {
            needed: 5,
            available: 2
        }
    );
    assert_eq!(
        e.to_string(),
        "pickle error at byte 2: unexpected end of input (need 5 bytes, 2 left)"
    );
    assert_eq!(error(b"\x80\x02N").kind, ErrorKind::NoStop);
}

#[test]
fn unknown_opcode_is_rejected_at_its_offset() {
    let e = error(b"\x80\x02N\xff.");
    assert_eq!(
        (e.offset, e.kind.clone()),
        (3, ErrorKind::UnknownOpcode(0xff))
    );
    assert_eq!(e.to_string(), "pickle error at byte 3: unknown opcode 0xff");
}

#[test]
fn unsupported_protocol_is_rejected() {
    assert_eq!(error(b"\x80\x06N.").kind, ErrorKind::UnsupportedProtocol(6));
}

#[test]
fn pops_cannot_cross_a_mark_but_pop_removes_an_empty_mark() {
    assert_eq!(error(b"\x80\x02N(\x85.").kind, ErrorKind::StackUnderflow);
    let (g, root) = decoded(b"\x80\x02N(0\x85.");
    assert_eq!(g.canon(root), "(None,)");
    assert_eq!(error(b"\x80\x02Nt.").kind, ErrorKind::NoMark);
}

#[test]
fn missing_memo_key_is_an_error() {
    let e = error(b"\x80\x02h\x07.");
    assert_eq!((e.offset, e.kind), (2, ErrorKind::MemoMissing(7)));
}

#[test]
fn protocol0_text_opcodes() {
    let (g, root) = decoded(
        b"(lp0\nI1\naI00\naL123456789012345678901234567890L\naF1.5\naS'x\\n'\naVcaf\\u00e9\nag0\na.",
    );
    assert_eq!(
        g.canon(root),
        r#"[1, False, 123456789012345678901234567890, 1.5, s2"x\n", "café", <cycle>]"#
    );
    assert_eq!(g.as_str(g.tuple_items(root).unwrap()[4]), Some("x\n"));
}

#[test]
fn long1_and_binint_widths() {
    let (g, root) = decoded(b"\x80\x02(\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00J\xff\xff\xff\xffM\xff\xff\x8a\x00t.");
    assert_eq!(g.canon(root), "(9223372036854775808, -1, 65535, 0)");
    assert!(matches!(
        g.node(g.tuple_items(root).unwrap()[0]),
        Some(Node::BigInt(_))
    ));
}

#[test]
fn sets_frozensets_dict_and_dup() {
    let (g, root) = decoded(b"\x80\x04\x8f(K\x02K\x01\x90(K\x03\x91\x86.");
    assert_eq!(g.canon(root), "({1, 2}, frozenset({3}))");
    let (g, root) = decoded(b"(X\x01\x00\x00\x00kK\x07d.");
    assert_eq!(g.dict_get(root, "k").and_then(|v| g.as_int(v)), Some(7));
    let (g, root) = decoded(b"\x80\x02]2\x86.");
    let items = g.tuple_items(root).unwrap();
    assert_eq!(items[0], items[1]);
    assert_eq!(error(b"(K\x01d.").kind, ErrorKind::OddDictItems);
}

#[test]
fn ordered_dict_items_land_on_the_object() {
    // pickle.dumps(OrderedDict(a=1), protocol=2)
    let (g, root) =
        decoded(b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00aq\x02K\x01s.");
    assert_eq!(g.global(root), Some(("collections", "OrderedDict")));
    assert_eq!(g.dict_get(root, "a").and_then(|v| g.as_int(v)), Some(1));
    assert_eq!(
        g.canon(root),
        r#"CALL(G<collections.OrderedDict>; ()).dictitems{"a": 1}"#
    );
}

#[test]
fn appends_on_an_object_fill_listitems_and_bad_targets_fail() {
    let (g, root) = decoded(b"\x80\x02cm\nL\n)R(K\x01K\x02e.");
    assert_eq!(g.obj(root).map(|o| o.listitems.len()), Some(2));
    let e = error(b"\x80\x02)K\x01a.");
    assert_eq!(
        e.kind,
        ErrorKind::WrongTarget {
            op: "APPEND",
            found: "tuple"
        }
    );
}

#[test]
fn inst_obj_and_newobj_ex_record_calls() {
    let (g, root) = decoded(b"(K\x01imod\nCls\n.");
    assert_eq!(g.canon(root), "CALL(G<mod.Cls>; (1,))");
    let (g, root) = decoded(b"\x80\x02(cmod\nCls\nK\x01K\x02o.");
    assert_eq!(g.canon(root), "CALL(G<mod.Cls>; (1, 2))");
    let (g, root) = decoded(b"\x80\x04cmod\nCls\n)}(X\x01\x00\x00\x00kK\x01u\x92.");
    assert_eq!(g.canon(root), r#"NEW(G<mod.Cls>; (); {"k": 1})"#);
}

#[test]
fn persistent_ids_extensions_and_buffers_stay_symbolic() {
    let (g, root) = decoded(b"(PModule:model\nX\x0b\x00\x00\x00InterleaverQ\x82\x05\x97\x98\x97t.");
    assert_eq!(
        g.canon(root),
        r#"(PID("Module:model"), PID("Interleaver"), EXT(5), OOB(0, readonly), OOB(1))"#
    );
    assert_eq!(error(b"\x80\x02\x82\x00.").kind, ErrorKind::BadExtCode(0));
}

#[test]
fn frame_length_must_be_available() {
    let (g, root) = decoded(b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.");
    assert_eq!(g.canon(root), "None");
    let e = error(b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.");
    assert_eq!(
        (e.offset, e.kind),
        (
            2,
            ErrorKind::Truncated {
                needed: 255,
                available: 2
            }
        )
    );
}

#[test]
fn huge_lengths_fail_before_allocating() {
    let e = error(b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.");
    assert_eq!(e.offset, 2);
    assert!(
        matches!(
            e.kind,
            ErrorKind::Truncated { .. } | ErrorKind::LengthOverflow(_)
        ),
        "{e}"
    );
    assert_eq!(
        error(b"\x80\x02T\xff\xff\xff\xff.").kind,
        ErrorKind::NegativeLength
    );
}

#[test]
fn node_limit_is_enforced() {
    let limits = Limits { max_nodes: 3 };
    assert!(
        decode_with(b"\x80\x02NNN\x87.", &limits)
            .is_err_and(|e| e.kind == ErrorKind::TooManyNodes(3))
    );
    assert!(decode_with(b"\x80\x02NN\x86.", &limits).is_ok());
}

#[test]
fn decode_prefix_reports_where_the_next_pickle_starts() {
    let bytes = b"\x80\x02K\x07.\x80\x02K\x08.rest";
    let (first, end) = decode_prefix(bytes, &Limits::default()).unwrap();
    assert_eq!((first.as_int(first.root), end), (Some(7), 5));
    let (second, end2) = decode_prefix(&bytes[end..], &Limits::default()).unwrap();
    assert_eq!((second.as_int(second.root), end + end2), (Some(8), 10));
}

/// A "billion laughs" pickle — each level a list holding the previous level twice, 60
/// levels (2^60 leaves if expanded) — decodes to one node per level: shared references
/// stay shared, so what decoding produces is bounded by the bytes read, not by the
/// expansion.
#[test]
fn shared_references_are_not_expanded() {
    let mut p = vec![0x80, 2, b']', 0x94]; // PROTO 2, EMPTY_LIST, MEMOIZE (memo 0)
    for level in 0..60u8 {
        p.extend([b'(', b'h', level, b'h', level, b'l', 0x94]); // MARK, BINGET ×2, LIST, MEMOIZE
    }
    p.push(b'.');
    let g = decode(&p).unwrap();
    assert!(g.nodes.len() < 200, "{} nodes", g.nodes.len());
}
