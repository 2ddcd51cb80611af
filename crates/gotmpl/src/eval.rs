//! Evaluation of pipelines, commands, operands, field chains and calls, following Go's
//! `evalPipeline`/`evalCommand`/`evalField`/`evalCall` including the order in which the
//! error location moves from node to node.

use crate::ast::{Arg, Command, Number, Pipe};
use crate::builtins::Builtin;
use crate::exec::{At, Result, State, Val};
use crate::function::{Arity, CallContext, Function};
use crate::template::MissingKey;
use crate::value::Value;

/// What a command invokes.
#[derive(Clone)]
pub(crate) enum Callee {
    User(Function),
    Builtin(Builtin),
}

impl<'a> State<'a> {
    pub fn eval_pipeline(&mut self, dot: &Val, pipe: Option<&'a Pipe>) -> Result<Val> {
        crate::stack::grow(|| self.eval_pipeline_inner(dot, pipe))
    }

    fn eval_pipeline_inner(&mut self, dot: &Val, pipe: Option<&'a Pipe>) -> Result<Val> {
        let Some(pipe) = pipe else {
            return Ok(Val::missing());
        };
        self.at(At::Pipe(pipe));
        let mut value: Option<Val> = None;
        for command in &pipe.cmds {
            let result = self.eval_command(dot, command, value.take())?;
            value = Some(result.unboxed());
        }
        let value = value.unwrap_or_default();
        for variable in &pipe.decl {
            if pipe.is_assign {
                self.set_var(&variable.name, value.clone())?;
            } else {
                self.vars.push((variable.name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], last: Option<&Val>) -> Result<()> {
        if args.len() > 1 || last.is_some() {
            return self.error(format!("can't give argument to non-function {}", args[0]));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val, command: &'a Command, last: Option<Val>) -> Result<Val> {
        let args = &command.args;
        let first = &args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at(At::Arg(first));
                return self.eval_field_chain(dot, dot.clone(), first, idents, args, last);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, args, last),
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, first, At::Command(command), name, args, last);
            }
            Arg::Pipe(pipe) => {
                self.not_a_function(args, last.as_ref())?;
                return self.eval_pipeline(dot, Some(pipe));
            }
            Arg::Variable { .. } => return self.eval_variable(dot, first, args, last),
            _ => {}
        }
        self.at(At::Arg(first));
        self.not_a_function(args, last.as_ref())?;
        match first {
            Arg::Bool { value, .. } => Ok(Val::of(Value::Bool(*value))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => self.error("nil is not a command"),
            Arg::Number { number, .. } => self.ideal_constant(first, number),
            Arg::String { text, .. } => Ok(Val::of(Value::from(text.as_str()))),
            _ => self.error(format!(
                "can't evaluate command {}",
                crate::format::quote(&first.to_string(), false)
            )),
        }
    }

    /// Go's `idealConstant`: floats only when the literal looks like one.
    fn ideal_constant(&mut self, node: &'a Arg, number: &Number) -> Result<Val> {
        self.at(At::Arg(node));
        let text = &number.text;
        if number.is_complex {
            return self.error(format!("complex constant {text} is not supported"));
        }
        let hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let rune = text.starts_with('\'');
        if let Some(float) = number.float
            && !hex_int
            && !rune
            && text.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Val::of(Value::Float(float)));
        }
        if let Some(int) = number.int {
            return Ok(Val::of(Value::Int(int)));
        }
        if number.uint.is_some() {
            return self.error(format!("{text} overflows int"));
        }
        Ok(Val::missing())
    }

    fn eval_chain(
        &mut self,
        dot: &Val,
        chain: &'a Arg,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Val> {
        self.at(At::Arg(chain));
        let Arg::Chain { node, fields, .. } = chain else {
            return self.error("internal error: no fields in evalChainNode");
        };
        if matches!(node.as_ref(), Arg::Nil { .. }) {
            return self.error(format!("indirection through explicit nil in {chain}"));
        }
        let receiver = self.eval_arg_raw(dot, node)?;
        self.eval_field_chain(dot, receiver, chain, fields, args, last)
    }

    fn eval_variable(
        &mut self,
        dot: &Val,
        node: &'a Arg,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Val> {
        self.at(At::Arg(node));
        let Arg::Variable { idents, .. } = node else {
            return Ok(Val::missing());
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, last.as_ref())?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, node, &idents[1..], args, last)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val,
        mut receiver: Val,
        node: &'a Arg,
        idents: &[String],
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Val> {
        let (final_ident, leading) = idents.split_last().expect("a field chain has a field");
        for ident in leading {
            receiver = self.eval_field(dot, ident, node, &[], None, &receiver)?;
        }
        self.eval_field(dot, final_ident, node, args, last, &receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Val,
        name: &str,
        node: &'a Arg,
        args: &'a [Arg],
        last: Option<Val>,
        receiver: &Val,
    ) -> Result<Val> {
        let Some(value) = &receiver.value else {
            if self.set.missing_key() == MissingKey::Error {
                let quoted = crate::format::quote(name, false);
                return self.error(format!("nil data; no entry for key {quoted}"));
            }
            return Ok(Val::missing());
        };
        let type_name = receiver.type_name();
        let has_args = args.len() > 1 || last.is_some();
        match value {
            Value::Nil => self.error(format!("nil pointer evaluating {type_name}.{name}")),
            Value::Object(object) => {
                if let Some(method) = object.method(name) {
                    let callee = Callee::User(method);
                    let call_args = args.get(1..).unwrap_or(&[]);
                    return self.eval_call(dot, &callee, At::Arg(node), name, call_args, last);
                }
                match object.field(name) {
                    Some(_) if has_args => self.error(format!(
                        "{name} has arguments but cannot be invoked as function"
                    )),
                    Some(field) => Ok(Val::of(field)),
                    None => self.error(format!("can't evaluate field {name} in type {type_name}")),
                }
            }
            Value::Map(map) => {
                if has_args {
                    return self.error(format!("{name} is not a method but has arguments"));
                }
                match map.get(name) {
                    Some(item) => Ok(Val::element(item, map.elem)),
                    None => match self.set.missing_key() {
                        MissingKey::Default => Ok(Val::missing()),
                        MissingKey::Zero => Ok(Val::element(map.elem.zero(), map.elem)),
                        MissingKey::Error => {
                            let quoted = crate::format::quote(name, false);
                            self.error(format!("map has no entry for key {quoted}"))
                        }
                    },
                }
            }
            _ => self.error(format!("can't evaluate field {name} in type {type_name}")),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Val,
        node: &'a Arg,
        call_node: At<'a>,
        name: &str,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Val> {
        self.at(At::Arg(node));
        let callee = if let Some(function) = self.set.function(name) {
            Callee::User(function.clone())
        } else if let Some(builtin) = Builtin::lookup(name) {
            Callee::Builtin(builtin)
        } else {
            let quoted = crate::format::quote(name, false);
            return self.error(format!("{quoted} is not a defined function"));
        };
        self.eval_call(
            dot,
            &callee,
            call_node,
            name,
            args.get(1..).unwrap_or(&[]),
            last,
        )
    }

    /// Go's `evalCall`: arity check, argument evaluation by parameter kind, the call.
    pub fn eval_call(
        &mut self,
        dot: &Val,
        callee: &Callee,
        node: At<'a>,
        name: &str,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Val> {
        let arity = match callee {
            Callee::User(function) => function.arity(),
            Callee::Builtin(builtin) => builtin.arity(),
        };
        let count = args.len() + usize::from(last.is_some());
        match arity {
            Arity::AtLeast(fixed) if count < fixed => {
                let got = args.len();
                return self.error(format!(
                    "wrong number of args for {name}: want at least {fixed} got {got}"
                ));
            }
            Arity::Exact(want) if count != want => {
                return self.error(format!(
                    "wrong number of args for {name}: want {want} got {count}"
                ));
            }
            _ => {}
        }
        match callee {
            Callee::Builtin(builtin) => self.call_builtin(dot, *builtin, node, name, args, last),
            Callee::User(function) => {
                let mut values = Vec::with_capacity(count);
                for (index, arg) in args.iter().enumerate() {
                    values.push(self.eval_arg_typed(dot, function.param_type(index), arg)?);
                }
                if let Some(last) = last {
                    values.push(self.validate_typed(last, function.param_type(count - 1))?);
                }
                self.call_function(function, node, name, &values)
            }
        }
    }

    pub fn call_function(
        &mut self,
        function: &Function,
        node: At<'a>,
        name: &str,
        values: &[Value],
    ) -> Result<Val> {
        let mut context = CallContext {
            template: self.set,
            depth: self.depth,
        };
        match function.call(&mut context, values) {
            // Go functions declared to return interface{} hand back a boxed value.
            Ok(value) => Ok(Val {
                value: Some(value),
                boxed: true,
            }),
            Err(error) => {
                self.at(node);
                self.error(format!("error calling {name}: {error}"))
            }
        }
    }

    /// `evalArg` with no declared type: the value as evaluated, invalid kept invalid.
    pub fn eval_arg_raw(&mut self, dot: &Val, arg: &'a Arg) -> Result<Val> {
        self.at(At::Arg(arg));
        match arg {
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Ok(Val::missing()),
            Arg::Field { .. }
            | Arg::Chain { .. }
            | Arg::Variable { .. }
            | Arg::Identifier { .. } => self.eval_operand(dot, arg),
            Arg::Pipe(pipe) => self.eval_pipeline(dot, Some(pipe)),
            Arg::Bool { value, .. } => Ok(Val::of(Value::Bool(*value))),
            Arg::Number { number, .. } => self.ideal_constant(arg, number),
            Arg::String { text, .. } => Ok(Val::of(Value::from(text.as_str()))),
        }
    }

    fn eval_operand(&mut self, dot: &Val, arg: &'a Arg) -> Result<Val> {
        let single = std::slice::from_ref(arg);
        match arg {
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), arg, idents, single, None)
            }
            Arg::Chain { .. } => self.eval_chain(dot, arg, &[], None),
            Arg::Variable { .. } => self.eval_variable(dot, arg, &[], None),
            Arg::Identifier { name, .. } => {
                self.eval_function(dot, arg, At::Arg(arg), name, &[], None)
            }
            _ => self.eval_arg_raw(dot, arg),
        }
    }

    /// `evalArg` for an `interface {}` parameter: invalid and nil both become nil.
    pub fn eval_arg_interface(&mut self, dot: &Val, arg: &'a Arg) -> Result<Value> {
        Ok(self.eval_arg_raw(dot, arg)?.into_value())
    }
}
