//! Executor: walks a parse tree against data, writing output, with Go's semantics for
//! variables, control structures, `template` calls and error locations.

use std::sync::Arc;

use crate::ast::{Arg, Branch, Command, List, Node, Pipe};
use crate::template::{Template, Tree};
use crate::value::{ElemType, Value};

/// A value as the executor sees it, mirroring Go's `reflect.Value`.
///
/// `value: None` is Go's invalid value (a missing map key, nil data): it prints as
/// `<no value>`. `boxed` marks values read out of `interface {}` containers before Go
/// unwraps them at the end of a pipeline stage; it changes error wording
/// (`nil pointer evaluating interface {}.x`, `can't evaluate field x in type interface {}`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Val {
    pub value: Option<Value>,
    pub boxed: bool,
}

impl Val {
    pub fn missing() -> Val {
        Val {
            value: None,
            boxed: false,
        }
    }

    pub fn of(value: Value) -> Val {
        Val {
            value: Some(value),
            boxed: false,
        }
    }

    /// An element of a container with the given element type.
    pub fn element(value: Value, elem: ElemType) -> Val {
        Val {
            value: Some(value),
            boxed: elem == ElemType::Interface,
        }
    }

    /// Go unwraps `interface {}` results after each pipeline stage; a nil interface
    /// becomes the invalid value.
    pub fn unboxed(self) -> Val {
        if self.boxed && matches!(self.value, Some(Value::Nil)) {
            return Val::missing();
        }
        Val {
            value: self.value,
            boxed: false,
        }
    }

    /// The Go type used in error messages: the static type when boxed.
    pub fn type_name(&self) -> String {
        match &self.value {
            _ if self.boxed => "interface {}".to_owned(),
            Some(value) => value.type_name(),
            None => "<invalid>".to_owned(),
        }
    }

    /// The value handed to functions taking `interface {}`: invalid becomes nil.
    pub fn into_value(self) -> Value {
        self.value.unwrap_or(Value::Nil)
    }

    pub fn is_true(&self) -> bool {
        self.value.as_ref().is_some_and(Value::is_true)
    }
}

/// The node errors are reported at, like Go's `state.node`.
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    Nowhere,
    Node(&'a Node),
    Pipe(&'a Pipe),
    Arg(&'a Arg),
    Command(&'a Command),
}

/// How a walk ended: normally, or by `{{break}}` / `{{continue}}`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Normal,
    Break,
    Continue,
}

/// A formatted execution error.
#[derive(Debug)]
pub(crate) struct Fail(pub String);

pub(crate) type Result<T> = std::result::Result<T, Fail>;

/// Execution state for one template invocation.
pub(crate) struct State<'a> {
    pub set: &'a Template,
    pub tree: &'a Tree,
    pub out: &'a mut String,
    pub vars: Vec<(String, Val)>,
    pub depth: usize,
    pub at: At<'a>,
}

impl<'a> State<'a> {
    pub fn at(&mut self, at: At<'a>) {
        self.at = at;
    }

    /// Formats an error with the template name, location and node, as Go's `errorf`.
    pub fn error<T>(&self, message: impl AsRef<str>) -> Result<T> {
        let name = &self.tree.name;
        let (pos, context) = match self.at {
            At::Nowhere => {
                return Err(Fail(format!("template: {name}: {}", message.as_ref())));
            }
            At::Node(node) => (node_pos(node), node.to_string()),
            At::Pipe(pipe) => (pipe.pos, pipe.to_string()),
            At::Arg(arg) => (arg.pos(), arg.to_string()),
            At::Command(command) => (command.pos, command.to_string()),
        };
        let text = &self.tree.text[..pos.min(self.tree.text.len())];
        let line = 1 + text.matches('\n').count();
        let column = text.rfind('\n').map_or(pos, |newline| pos - newline - 1);
        Err(Fail(format!(
            "template: {}:{line}:{column}: executing {} at <{context}>: {}",
            self.tree.parse_name,
            crate::format::quote(name, false),
            message.as_ref()
        )))
    }

    pub fn mark(&self) -> usize {
        self.vars.len()
    }

    pub fn pop(&mut self, mark: usize) {
        self.vars.truncate(mark);
    }

    pub fn set_var(&mut self, name: &str, value: Val) -> Result<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    pub fn var_value(&self, name: &str) -> Result<Val> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, value)) => Ok(value.clone()),
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    pub fn walk_list(&mut self, dot: &Val, list: &'a List) -> Result<Flow> {
        for node in &list.nodes {
            let flow = self.walk(dot, node)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val, node: &'a Node) -> Result<Flow> {
        crate::stack::grow(|| self.walk_node(dot, node))
    }

    fn walk_node(&mut self, dot: &Val, node: &'a Node) -> Result<Flow> {
        self.at(At::Node(node));
        match node {
            Node::Text(text) => self.out.push_str(text),
            Node::Action { pipe, .. } => {
                let value = self.eval_pipeline(dot, Some(pipe))?;
                if pipe.decl.is_empty() {
                    self.print_value(node, &value)?;
                }
            }
            Node::If(branch) => return self.walk_if_or_with(dot, branch, false),
            Node::With(branch) => return self.walk_if_or_with(dot, branch, true),
            Node::Range(branch) => return self.walk_range(dot, branch),
            Node::Template { name, pipe, .. } => self.walk_template(dot, name, pipe.as_ref())?,
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn print_value(&mut self, node: &'a Node, value: &Val) -> Result<()> {
        self.at(At::Node(node));
        match &value.value {
            None => self.out.push_str("<no value>"),
            Some(Value::Func(function)) => {
                let type_name = function.type_name().to_owned();
                return self.error(format!("can't print {node} of type {type_name}"));
            }
            Some(value) => self.out.push_str(&crate::format::format_value(value, 'v')),
        }
        Ok(())
    }

    fn walk_if_or_with(&mut self, dot: &Val, branch: &'a Branch, is_with: bool) -> Result<Flow> {
        let mark = self.mark();
        let value = self.eval_pipeline(dot, Some(&branch.pipe))?;
        let flow = if value.is_true() {
            let dot = if is_with { &value } else { dot };
            self.walk_list(dot, &branch.list)?
        } else if let Some(else_list) = &branch.else_list {
            self.walk_list(dot, else_list)?
        } else {
            Flow::Normal
        };
        self.pop(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Val, branch: &'a Branch) -> Result<Flow> {
        let outer_mark = self.mark();
        let value = self.eval_pipeline(dot, Some(&branch.pipe))?;
        let mark = self.mark();
        let ran = match &value.value {
            None => false,
            Some(Value::Int(n) | Value::Int64(n)) => {
                self.range_integer(branch, &value, *n, mark)?
            }
            Some(Value::Uint64(n)) => {
                let n = i64::try_from(*n).unwrap_or(i64::MAX);
                self.range_integer(branch, &value, n, mark)?
            }
            Some(Value::Uint8(n)) => self.range_integer(branch, &value, i64::from(*n), mark)?,
            Some(Value::Slice(slice)) => {
                let slice = Arc::clone(slice);
                let mut items = slice.items.iter().enumerate();
                let mut next = || {
                    items.next().map(|(index, item)| {
                        let index = Val::of(Value::Int(i64::try_from(index).unwrap_or(i64::MAX)));
                        (index, Val::element(item.clone(), slice.elem))
                    })
                };
                self.range_items(branch, mark, &mut next)?
            }
            Some(Value::Map(map)) => {
                let map = Arc::clone(map);
                let snapshot = map.snapshot();
                let mut entries = snapshot.iter();
                let mut next = || {
                    entries.next().map(|(key, item)| {
                        (
                            Val::of(Value::from(key.as_str())),
                            Val::element(item.clone(), map.elem),
                        )
                    })
                };
                self.range_items(branch, mark, &mut next)?
            }
            Some(other) => {
                let printed = crate::format::format_value(other, 'v');
                return self.error(format!("range can't iterate over {printed}"));
            }
        };
        if !ran && let Some(else_list) = &branch.else_list {
            self.walk_list(dot, else_list)?;
        }
        self.pop(outer_mark);
        Ok(Flow::Normal)
    }

    fn range_integer(
        &mut self,
        branch: &'a Branch,
        value: &Val,
        count: i64,
        mark: usize,
    ) -> Result<bool> {
        if branch.pipe.decl.len() > 1 {
            let printed = value
                .value
                .as_ref()
                .map(|v| crate::format::format_value(v, 'v'));
            let printed = printed.unwrap_or_default();
            return self.error(format!(
                "can't use {printed} to iterate over more than one variable"
            ));
        }
        let template = value.value.clone().unwrap_or(Value::Int(0));
        let mut current = 0i64;
        let mut next = || {
            (current < count).then(|| {
                let element = match template {
                    Value::Int64(_) => Value::Int64(current),
                    Value::Uint64(_) => Value::Uint64(current.unsigned_abs()),
                    Value::Uint8(_) => Value::Uint8(u8::try_from(current).unwrap_or(0)),
                    _ => Value::Int(current),
                };
                current += 1;
                (Val::missing(), Val::of(element))
            })
        };
        self.range_items(branch, mark, &mut next)
    }

    /// Runs the body once per (index, element); returns whether it ran at all.
    fn range_items(
        &mut self,
        branch: &'a Branch,
        mark: usize,
        next: &mut dyn FnMut() -> Option<(Val, Val)>,
    ) -> Result<bool> {
        let mut ran = false;
        while let Some((index, element)) = next() {
            ran = true;
            self.set_range_vars(&branch.pipe, index, element.clone(), mark)?;
            let flow = self.walk_list(&element, &branch.list);
            self.pop(mark);
            if flow? == Flow::Break {
                break;
            }
        }
        Ok(ran)
    }

    fn set_range_vars(&mut self, pipe: &Pipe, index: Val, element: Val, mark: usize) -> Result<()> {
        let decl = &pipe.decl;
        if decl.is_empty() {
            return Ok(());
        }
        if pipe.is_assign {
            if decl.len() > 1 {
                self.set_var(&decl[0].name, index)?;
                self.set_var(&decl[1].name, element)?;
            } else {
                self.set_var(&decl[0].name, element)?;
            }
        } else {
            // The pipeline pushed the declared variables just below `mark`.
            self.vars[mark - 1].1 = element;
            if decl.len() > 1 {
                self.vars[mark - 2].1 = index;
            }
        }
        Ok(())
    }

    fn walk_template(&mut self, dot: &Val, name: &str, pipe: Option<&'a Pipe>) -> Result<()> {
        let Some(tree) = self.set.tree(name) else {
            let quoted = crate::format::quote(name, false);
            return self.error(format!("template {quoted} not defined"));
        };
        let limit = self.set.max_depth();
        if self.depth >= limit {
            return self.error(format!("exceeded maximum template depth ({limit})"));
        }
        let dot = self.eval_pipeline(dot, pipe)?;
        let mut state = State {
            set: self.set,
            tree: &tree,
            out: self.out,
            vars: vec![("$".to_owned(), dot.clone())],
            depth: self.depth + 1,
            at: At::Nowhere,
        };
        state.walk_list(&dot, &tree.root)?;
        Ok(())
    }
}

fn node_pos(node: &Node) -> usize {
    match node {
        Node::Text(_) => 0,
        Node::Action { pos, .. }
        | Node::Template { pos, .. }
        | Node::Break { pos }
        | Node::Continue { pos } => *pos,
        Node::If(branch) | Node::Range(branch) | Node::With(branch) => branch.pos,
    }
}
