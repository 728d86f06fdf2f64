//! The inert pickle machine: executes all 68 opcodes of protocols 0–5 into an arena
//! graph without importing or calling anything (docs/protocol.md). Stack, memo and
//! containers hold node ids, so memo hits share objects and cycles are real; marks
//! live on a separate stack that fences pops, as in CPython's `_pickle.c`.

use std::collections::HashMap;

use super::error::{ErrorKind, PickleError};
use super::node::{Id, Node, Obj};
use super::opcodes::*;
use super::reader::Reader;
use super::{Graph, Limits, bigint, text};

type Step<T = ()> = Result<T, ErrorKind>;

pub(super) struct Vm<'a> {
    reader: Reader<'a>,
    limits: &'a Limits,
    nodes: Vec<Node>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
    buffers: usize,
}

impl<'a> Vm<'a> {
    /// Runs up to and including STOP; returns the graph and the offset after STOP.
    pub(super) fn run(input: &'a [u8], limits: &'a Limits) -> Result<(Graph, usize), PickleError> {
        let mut vm = Vm {
            reader: Reader::new(input),
            limits,
            nodes: Vec::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            buffers: 0,
        };
        loop {
            let offset = vm.reader.pos();
            let error = |kind| PickleError { offset, kind };
            let op = vm.reader.u8().map_err(|_| error(ErrorKind::NoStop))?;
            if let Some(root) = vm.step(op).map_err(error)? {
                let end = vm.reader.pos();
                return Ok((
                    Graph {
                        nodes: vm.nodes,
                        root,
                    },
                    end,
                ));
            }
        }
    }

    /// Executes one opcode; `Some(root)` on STOP.
    fn step(&mut self, op: u8) -> Step<Option<Id>> {
        let bytes = |b: &[u8]| Ok(Node::Bytes(b.to_vec()));
        let py2_str = |b: &[u8]| Ok(Node::PyStr2(b.to_vec()));
        let long = |b: &[u8]| Ok(bigint::int_node(b));
        match op {
            STOP => return self.pop().map(Some),
            PROTO => self.proto()?,
            FRAME => self.frame()?,
            MARK => self.marks.push(self.stack.len()),
            POP => self.pop_top()?,
            POP_MARK => drop(self.pop_mark()?),
            DUP => self.stack.push(self.top()?),

            NONE => self.push(Node::None)?,
            NEWTRUE => self.push(Node::Bool(true))?,
            NEWFALSE => self.push(Node::Bool(false))?,
            INT => self.push_line(text::int)?,
            LONG => self.push_line(text::long)?,
            BININT => self.push_with(|r| r.i32().map(|v| Node::Int(v.into())))?,
            BININT1 => self.push_with(|r| r.u8().map(|v| Node::Int(v.into())))?,
            BININT2 => self.push_with(|r| r.u16().map(|v| Node::Int(v.into())))?,
            LONG1 => self.push_counted(Len::U8, long)?,
            LONG4 => self.push_counted(Len::I32, long)?,
            FLOAT => self.push_line(|line| text::float(line).map(Node::Float))?,
            BINFLOAT => self.push_with(|r| r.f64_be().map(Node::Float))?,

            STRING => self.push_line(|line| text::quoted_string(line).map(Node::PyStr2))?,
            BINSTRING => self.push_counted(Len::I32, py2_str)?,
            SHORT_BINSTRING => self.push_counted(Len::U8, py2_str)?,
            UNICODE => self.push_line(|line| text::raw_unicode_escape(line).map(Node::Str))?,
            SHORT_BINUNICODE => self.push_counted(Len::U8, utf8)?,
            BINUNICODE => self.push_counted(Len::U32, utf8)?,
            BINUNICODE8 => self.push_counted(Len::U64, utf8)?,
            SHORT_BINBYTES => self.push_counted(Len::U8, bytes)?,
            BINBYTES => self.push_counted(Len::U32, bytes)?,
            BINBYTES8 => self.push_counted(Len::U64, bytes)?,
            BYTEARRAY8 => self.push_counted(Len::U64, |b| Ok(Node::ByteArray(b.to_vec())))?,

            EMPTY_LIST => self.push(Node::List(Vec::new()))?,
            EMPTY_TUPLE => self.push(Node::Tuple(Vec::new()))?,
            EMPTY_DICT => self.push(Node::Dict(Vec::new()))?,
            EMPTY_SET => self.push(Node::Set(Vec::new()))?,
            LIST => self.collect_mark(Node::List)?,
            TUPLE => self.collect_mark(Node::Tuple)?,
            FROZENSET => self.collect_mark(Node::FrozenSet)?,
            DICT => self.dict()?,
            TUPLE1 => self.tuple_n(1)?,
            TUPLE2 => self.tuple_n(2)?,
            TUPLE3 => self.tuple_n(3)?,
            APPEND => self.append()?,
            APPENDS => self.appends()?,
            ADDITEMS => self.add_items()?,
            SETITEM => self.set_item()?,
            SETITEMS => self.set_items()?,

            GET | BINGET | LONG_BINGET => {
                let key = self.memo_key(op)?;
                self.get(key)?
            }
            PUT | BINPUT | LONG_BINPUT => {
                let key = self.memo_key(op)?;
                self.put(key)?
            }
            MEMOIZE => self.put(self.memo.len() as u64)?,

            GLOBAL => self.push_with(global_lines)?,
            STACK_GLOBAL => self.stack_global()?,
            REDUCE => self.reduce()?,
            NEWOBJ => self.newobj()?,
            NEWOBJ_EX => self.newobj_ex()?,
            INST => self.inst()?,
            OBJ => self.obj()?,
            BUILD => self.build()?,

            PERSID => self.persid()?,
            BINPERSID => self.binpersid()?,
            EXT1 => self.push_with(|r| r.u8().map(i64::from).and_then(ext))?,
            EXT2 => self.push_with(|r| r.u16().map(i64::from).and_then(ext))?,
            EXT4 => self.push_with(|r| r.i32().map(i64::from).and_then(ext))?,
            NEXT_BUFFER => self.next_buffer()?,
            READONLY_BUFFER => self.readonly_buffer()?,
            other => return Err(ErrorKind::UnknownOpcode(other)),
        }
        Ok(None)
    }

    // ---- framing

    fn proto(&mut self) -> Step {
        let version = self.reader.u8()?;
        if version > HIGHEST_PROTOCOL {
            return Err(ErrorKind::UnsupportedProtocol(version));
        }
        Ok(())
    }

    /// FRAME only announces how many bytes follow; like CPython, they must be present.
    fn frame(&mut self) -> Step {
        let len = self.reader.u64()?;
        let available = self.reader.remaining();
        match usize::try_from(len) {
            Ok(needed) if needed <= available => Ok(()),
            Ok(needed) => Err(ErrorKind::Truncated { needed, available }),
            Err(_) => Err(ErrorKind::LengthOverflow(len)),
        }
    }

    // ---- arena and stack

    fn alloc(&mut self, node: Node) -> Step<Id> {
        if self.nodes.len() >= self.limits.max_nodes {
            return Err(ErrorKind::TooManyNodes(self.limits.max_nodes));
        }
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    fn push(&mut self, node: Node) -> Step {
        let id = self.alloc(node)?;
        self.stack.push(id);
        Ok(())
    }

    fn push_with(&mut self, read: impl FnOnce(&mut Reader<'a>) -> Step<Node>) -> Step {
        let node = read(&mut self.reader)?;
        self.push(node)
    }

    fn push_line(&mut self, parse: impl FnOnce(&[u8]) -> Step<Node>) -> Step {
        let node = parse(self.reader.line()?)?;
        self.push(node)
    }

    /// A length-prefixed argument, checked against the remaining input before copying.
    fn push_counted(&mut self, len: Len, make: impl FnOnce(&[u8]) -> Step<Node>) -> Step {
        let len = match len {
            Len::U8 => self.reader.u8()?.into(),
            Len::U32 => self.reader.u32()?.into(),
            Len::I32 => u64::try_from(self.reader.i32()?).map_err(|_| ErrorKind::NegativeLength)?,
            Len::U64 => self.reader.u64()?,
        };
        let node = make(self.reader.take_u64_len(len)?)?;
        self.push(node)
    }

    /// Stack length below which pops may not go: the innermost open MARK.
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn top(&self) -> Step<Id> {
        match self.stack.last() {
            Some(&id) if self.stack.len() > self.fence() => Ok(id),
            _ => Err(ErrorKind::StackUnderflow),
        }
    }

    fn pop(&mut self) -> Step<Id> {
        let id = self.top()?;
        self.stack.pop();
        Ok(id)
    }

    /// POP discards the top item, or the innermost MARK when nothing was pushed after it.
    fn pop_top(&mut self) -> Step {
        if self.marks.last() == Some(&self.stack.len()) {
            self.marks.pop();
            Ok(())
        } else {
            self.pop().map(drop)
        }
    }

    /// The items pushed since the innermost MARK, which is closed.
    fn pop_mark(&mut self) -> Step<Vec<Id>> {
        let mark = self.marks.pop().ok_or(ErrorKind::NoMark)?;
        // Pops never go below the innermost mark, so `mark <= stack.len()` holds.
        Ok(self.stack.split_off(mark))
    }

    fn collect_mark(&mut self, make: fn(Vec<Id>) -> Node) -> Step {
        let items = self.pop_mark()?;
        self.push(make(items))
    }

    fn tuple_n(&mut self, n: usize) -> Step {
        let start = self
            .stack
            .len()
            .checked_sub(n)
            .filter(|&s| s >= self.fence());
        let items = self
            .stack
            .split_off(start.ok_or(ErrorKind::StackUnderflow)?);
        self.push(Node::Tuple(items))
    }

    fn dict(&mut self) -> Step {
        let items = pairs(self.pop_mark()?)?;
        self.push(Node::Dict(items))
    }

    // ---- memo

    /// The key argument of GET/PUT (text), BINGET/BINPUT (u8) or LONG_BINGET/LONG_BINPUT (u32).
    fn memo_key(&mut self, op: u8) -> Step<u64> {
        match op {
            GET | PUT => text::memo_key(self.reader.line()?),
            BINGET | BINPUT => self.reader.u8().map(u64::from),
            _ => self.reader.u32().map(u64::from),
        }
    }

    fn get(&mut self, key: u64) -> Step {
        let id = *self.memo.get(&key).ok_or(ErrorKind::MemoMissing(key))?;
        self.stack.push(id);
        Ok(())
    }

    fn put(&mut self, key: u64) -> Step {
        let id = self.top()?;
        self.memo.insert(key, id);
        Ok(())
    }

    // ---- in-place mutation of the top item (memo references see it)

    fn append(&mut self) -> Step {
        let value = self.pop()?;
        self.extend_list("APPEND", vec![value])
    }

    fn appends(&mut self) -> Step {
        let items = self.pop_mark()?;
        self.extend_list("APPENDS", items)
    }

    fn extend_list(&mut self, op: &'static str, items: Vec<Id>) -> Step {
        let target = self.top()?;
        match &mut self.nodes[target] {
            Node::List(list) => list.extend(items),
            Node::Object(obj) => obj.listitems.extend(items),
            other => {
                return Err(ErrorKind::WrongTarget {
                    op,
                    found: other.kind(),
                });
            }
        }
        Ok(())
    }

    /// ADDITEMS fills a set; on an object the items are recorded like `add` calls.
    fn add_items(&mut self) -> Step {
        let items = self.pop_mark()?;
        let target = self.top()?;
        match &mut self.nodes[target] {
            Node::Set(set) => set.extend(items),
            Node::Object(obj) => obj.listitems.extend(items),
            other => {
                return Err(ErrorKind::WrongTarget {
                    op: "ADDITEMS",
                    found: other.kind(),
                });
            }
        }
        Ok(())
    }

    fn set_item(&mut self) -> Step {
        let value = self.pop()?;
        let key = self.pop()?;
        self.extend_dict("SETITEM", vec![(key, value)])
    }

    fn set_items(&mut self) -> Step {
        let items = pairs(self.pop_mark()?)?;
        self.extend_dict("SETITEMS", items)
    }

    fn extend_dict(&mut self, op: &'static str, items: Vec<(Id, Id)>) -> Step {
        let target = self.top()?;
        match &mut self.nodes[target] {
            Node::Dict(dict) => dict.extend(items),
            Node::Object(obj) => obj.dictitems.extend(items),
            other => {
                return Err(ErrorKind::WrongTarget {
                    op,
                    found: other.kind(),
                });
            }
        }
        Ok(())
    }

    /// BUILD appends the state to an object; any other value is wrapped, in place, into
    /// an object whose `callable` is the moved original value.
    fn build(&mut self) -> Step {
        let state = self.pop()?;
        let target = self.top()?;
        if let Node::Object(obj) = &mut self.nodes[target] {
            obj.state.push(state);
            return Ok(());
        }
        let original = self.alloc(Node::None)?;
        self.nodes.swap(target, original);
        let mut wrapper = Obj::call(original, None, None, false);
        wrapper.state.push(state);
        self.nodes[target] = Node::Object(wrapper);
        Ok(())
    }

    // ---- calls (recorded, never executed)

    fn reduce(&mut self) -> Step {
        let args = self.pop()?;
        let callable = self.pop()?;
        self.push(Node::Object(Obj::call(callable, Some(args), None, false)))
    }

    fn newobj(&mut self) -> Step {
        let args = self.pop()?;
        let cls = self.pop()?;
        self.push(Node::Object(Obj::call(cls, Some(args), None, true)))
    }

    fn newobj_ex(&mut self) -> Step {
        let kwargs = self.pop()?;
        let args = self.pop()?;
        let cls = self.pop()?;
        self.push(Node::Object(Obj::call(cls, Some(args), Some(kwargs), true)))
    }

    /// INST: `module\nname\n` names the class; the marked items are the call arguments.
    fn inst(&mut self) -> Step {
        let global = global_lines(&mut self.reader)?;
        let args = self.pop_mark()?;
        let cls = self.alloc(global)?;
        let args = self.alloc(Node::Tuple(args))?;
        self.push(Node::Object(Obj::call(cls, Some(args), None, false)))
    }

    /// OBJ: the first marked item is the class, the rest the call arguments.
    fn obj(&mut self) -> Step {
        let mut items = self.pop_mark()?;
        if items.is_empty() {
            return Err(ErrorKind::StackUnderflow);
        }
        let cls = items.remove(0);
        let args = self.alloc(Node::Tuple(items))?;
        self.push(Node::Object(Obj::call(cls, Some(args), None, false)))
    }

    fn stack_global(&mut self) -> Step {
        let name = self.pop()?;
        let module = self.pop()?;
        let global = match (&self.nodes[module], &self.nodes[name]) {
            (Node::Str(module), Node::Str(name)) => Node::Global {
                module: module.clone(),
                name: name.clone(),
            },
            _ => return Err(ErrorKind::StackGlobalOperands),
        };
        self.push(global)
    }

    // ---- references resolved by the loader in Python; kept symbolic here

    /// PERSID: an ASCII line is the persistent id (a str node).
    fn persid(&mut self) -> Step {
        let line = self.reader.line()?;
        let pid = std::str::from_utf8(line).ok().filter(|s| s.is_ascii());
        let pid = pid.ok_or(ErrorKind::InvalidText("PERSID"))?.to_owned();
        let pid = self.alloc(Node::Str(pid))?;
        self.push(Node::PersId(pid))
    }

    fn binpersid(&mut self) -> Step {
        let pid = self.pop()?;
        self.push(Node::PersId(pid))
    }

    fn next_buffer(&mut self) -> Step {
        let index = self.buffers;
        self.buffers += 1;
        self.push(Node::OutOfBand {
            index,
            readonly: false,
        })
    }

    /// A read-only view replaces a writable buffer on the stack (not in the memo).
    fn readonly_buffer(&mut self) -> Step {
        let top = self.top()?;
        if let Node::OutOfBand {
            index,
            readonly: false,
        } = self.nodes[top]
        {
            self.pop()?;
            self.push(Node::OutOfBand {
                index,
                readonly: true,
            })?;
        }
        Ok(())
    }
}

/// Width of a length prefix.
enum Len {
    U8,
    U32,
    I32,
    U64,
}

fn global_lines(reader: &mut Reader<'_>) -> Step<Node> {
    let module = utf8_string(reader.line()?)?;
    let name = utf8_string(reader.line()?)?;
    Ok(Node::Global { module, name })
}

fn utf8_string(bytes: &[u8]) -> Step<String> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| ErrorKind::InvalidUtf8)
}

fn utf8(bytes: &[u8]) -> Step<Node> {
    utf8_string(bytes).map(Node::Str)
}

fn ext(code: i64) -> Step<Node> {
    u32::try_from(code)
        .ok()
        .filter(|&c| c > 0)
        .map(Node::Ext)
        .ok_or(ErrorKind::BadExtCode(code))
}

fn pairs(items: Vec<Id>) -> Step<Vec<(Id, Id)>> {
    if !items.len().is_multiple_of(2) {
        return Err(ErrorKind::OddDictItems);
    }
    Ok(items
        .chunks_exact(2)
        .map(|pair| (pair[0], pair[1]))
        .collect())
}
