//! Arguments for typed parameters: Go's `evalArg` for constants and `validateType` for
//! evaluated values, with their error messages.

use crate::ast::Arg;
use crate::exec::{At, Result, State, Val};
use crate::function::ParamType;
use crate::value::Value;

impl<'a> State<'a> {
    /// Evaluates `arg` for a parameter of type `param`.
    pub fn eval_arg_typed(&mut self, dot: &Val, param: ParamType, arg: &'a Arg) -> Result<Value> {
        if param == ParamType::Any {
            return self.eval_arg_interface(dot, arg);
        }
        self.at(At::Arg(arg));
        let name = param.go_name();
        let constant = match arg {
            Arg::Nil { .. } if param.can_be_nil() => return Ok(Value::Nil),
            Arg::Nil { .. } => return self.error(format!("cannot assign nil to {name}")),
            Arg::Bool { value, .. } => (param == ParamType::Bool).then_some(Value::Bool(*value)),
            Arg::String { text, .. } => {
                (param == ParamType::String).then(|| Value::from(text.as_str()))
            }
            Arg::Number { number, .. } => match param {
                ParamType::Int => number.int.map(Value::Int),
                ParamType::Int64 => number.int.map(Value::Int64),
                ParamType::Float64 => number.float.map(Value::Float),
                ParamType::Uint32 => number
                    .int
                    .filter(|n| u32::try_from(*n).is_ok())
                    .map(Value::Int),
                _ => None,
            },
            _ => {
                let value = self.eval_arg_raw(dot, arg)?;
                return self.validate_typed(value, param);
            }
        };
        if let Some(value) = constant {
            return Ok(value);
        }
        let expected = match param {
            ParamType::Int | ParamType::Int64 => "integer",
            ParamType::Uint32 => "unsigned integer",
            ParamType::Float64 => "float",
            ParamType::InterfaceSlice | ParamType::Named(_) => {
                return self.error(format!("can't handle {arg} for arg of type {name}"));
            }
            other => other.go_name(),
        };
        self.error(format!("expected {expected}; found {arg}"))
    }

    /// Go's `validateType`: the value must already have the parameter's type.
    pub fn validate_typed(&self, value: Val, param: ParamType) -> Result<Value> {
        let name = param.go_name();
        match value.value {
            None if param.can_be_nil() => Ok(Value::Nil),
            None => self.error(format!("invalid value; expected {name}")),
            Some(inner)
                if param.accepts(&inner) && !(inner.is_nil() && param != ParamType::Any) =>
            {
                Ok(inner)
            }
            Some(Value::Nil) => self.error(format!(
                "wrong type for value; expected {name}; got interface {{}}"
            )),
            Some(other) => {
                let type_name = other.type_name();
                self.error(format!(
                    "wrong type for value; expected {name}; got {type_name}"
                ))
            }
        }
    }

    /// `evalArg` for a `string` parameter (printf's format).
    pub fn eval_arg_string(&mut self, dot: &Val, arg: &'a Arg) -> Result<String> {
        let value = self.eval_arg_typed(dot, ParamType::String, arg)?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Go's `validateType(value, string)`.
    pub fn expect_string(&self, value: Val) -> Result<String> {
        let value = self.validate_typed(value, ParamType::String)?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }
}
