//! Go's predefined template functions. They see the executor's view of values (invalid
//! versus nil, boxed or not), because Go's versions take `reflect.Value` arguments and
//! their error messages depend on it.

use crate::ast::Arg;
use crate::compare::{compare_equal, compare_less};
use crate::escape::{html_escape, js_escape, url_query_escape};
use crate::exec::{At, Result, State, Val};
use crate::function::{Arity, FuncError};
use crate::value::{ElemType, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Call,
    Print,
    Printf,
    Println,
    Html,
    Js,
    UrlQuery,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "call" => Builtin::Call,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::UrlQuery,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            _ => return None,
        })
    }

    pub fn arity(self) -> Arity {
        match self {
            Builtin::And | Builtin::Or | Builtin::Index | Builtin::Slice | Builtin::Call => {
                Arity::AtLeast(1)
            }
            Builtin::Printf | Builtin::Eq => Arity::AtLeast(1),
            Builtin::Not | Builtin::Len => Arity::Exact(1),
            Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => Arity::Exact(2),
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::UrlQuery => {
                Arity::AtLeast(0)
            }
        }
    }
}

impl<'a> State<'a> {
    pub(crate) fn call_builtin(
        &mut self,
        dot: &Val,
        builtin: Builtin,
        node: At<'a>,
        name: &str,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Val> {
        if matches!(builtin, Builtin::And | Builtin::Or) {
            return self.and_or(dot, builtin == Builtin::Or, args, last);
        }
        let result = match builtin {
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::UrlQuery => {
                let values = self.interface_args(dot, args, last)?;
                Ok(Val::of(Value::from(printing(builtin, &values))))
            }
            Builtin::Printf => {
                let (format, values) = self.printf_args(dot, args, last)?;
                Ok(Val::of(Value::from(crate::format::sprintf(
                    &format, &values,
                ))))
            }
            Builtin::Call => return self.call_value(dot, node, args, last),
            _ => {
                let values = self.reflect_args(dot, args, last)?;
                reflect_builtin(builtin, &values)
            }
        };
        match result {
            Ok(value) => Ok(value),
            Err(error) => {
                self.at(node);
                self.error(format!("error calling {name}: {error}"))
            }
        }
    }

    /// `and`/`or` evaluate arguments lazily and return the deciding one.
    fn and_or(
        &mut self,
        dot: &Val,
        is_or: bool,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Val> {
        let mut value = Val::missing();
        for arg in args {
            value = self.eval_arg_raw(dot, arg)?;
            if value.is_true() == is_or {
                return Ok(value);
            }
        }
        if let Some(last) = last {
            value = last;
        }
        Ok(value)
    }

    fn interface_args(
        &mut self,
        dot: &Val,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Vec<Value>> {
        let mut values = Vec::with_capacity(args.len() + 1);
        for arg in args {
            values.push(self.eval_arg_interface(dot, arg)?);
        }
        if let Some(last) = last {
            values.push(last.into_value());
        }
        Ok(values)
    }

    fn reflect_args(&mut self, dot: &Val, args: &'a [Arg], last: Option<Val>) -> Result<Vec<Val>> {
        let mut values = Vec::with_capacity(args.len() + 1);
        for arg in args {
            values.push(self.eval_arg_raw(dot, arg)?);
        }
        values.extend(last);
        Ok(values)
    }

    fn printf_args(
        &mut self,
        dot: &Val,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<(String, Vec<Value>)> {
        let Some((first, rest)) = args.split_first() else {
            // Only the piped value: it is the format.
            let format = self.expect_string(last.unwrap_or_default())?;
            return Ok((format, Vec::new()));
        };
        let format = self.eval_arg_string(dot, first)?;
        let values = self.interface_args(dot, rest, last)?;
        Ok((format, values))
    }

    /// `call fn args...`: only host-provided function values can be called.
    fn call_value(
        &mut self,
        dot: &Val,
        node: At<'a>,
        args: &'a [Arg],
        last: Option<Val>,
    ) -> Result<Val> {
        let callee_name = match args.first() {
            Some(arg) => arg.to_string(),
            None => match last.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::String(s)) => s.to_string(),
                Some(other) => format!("<{} Value>", other.type_name()),
                None => "<invalid Value>".to_owned(),
            },
        };
        let values = self.reflect_args(dot, args, last)?;
        let function = match values[0].value.clone() {
            None | Some(Value::Nil) => Err(FuncError::new("call of nil")),
            Some(Value::Func(function)) => Ok(function),
            Some(other) => {
                let type_name = other.type_name();
                Err(FuncError::new(format!(
                    "non-function {callee_name} of type {type_name}"
                )))
            }
        };
        let function = match function {
            Ok(function) => function,
            Err(error) => {
                self.at(node);
                return self.error(format!("error calling call: {error}"));
            }
        };
        let call_args: Vec<Value> = values[1..].iter().cloned().map(Val::into_value).collect();
        let arity_error = match function.arity() {
            Arity::Exact(want) if call_args.len() != want => Some(format!("want {want}")),
            Arity::AtLeast(want) if call_args.len() < want => Some(format!("want at least {want}")),
            _ => None,
        };
        if let Some(want) = arity_error {
            self.at(node);
            let got = call_args.len();
            return self.error(format!(
                "error calling call: wrong number of args for {callee_name}: got {got} {want}"
            ));
        }
        self.call_function(&function, node, "call", &call_args)
    }
}

fn printing(builtin: Builtin, values: &[Value]) -> String {
    // Go's evalArgs turns nil arguments into the string "<no value>" before printing.
    let text = || {
        if let [Value::String(s)] = values {
            return s.to_string();
        }
        {
            let printable: Vec<Value> = values
                .iter()
                .map(|v| {
                    if v.is_nil() {
                        Value::from("<no value>")
                    } else {
                        v.clone()
                    }
                })
                .collect();
            crate::format::sprint(&printable)
        }
    };
    match builtin {
        Builtin::Print => crate::format::sprint(values),
        Builtin::Println => crate::format::sprintln(values),
        Builtin::Html => html_escape(&text()),
        Builtin::Js => js_escape(&text()),
        _ => url_query_escape(&text()),
    }
}

fn reflect_builtin(builtin: Builtin, values: &[Val]) -> std::result::Result<Val, FuncError> {
    let bool_value = |b: bool| Val::of(Value::Bool(b));
    match builtin {
        Builtin::Not => Ok(bool_value(!values[0].is_true())),
        Builtin::Len => length(&values[0]).map(|n| Val::of(Value::Int(n))),
        Builtin::Index => index(&values[0], &values[1..]),
        Builtin::Slice => slice(&values[0], &values[1..]),
        Builtin::Eq => compare_equal(&values[0], &values[1..]).map(bool_value),
        Builtin::Ne => compare_equal(&values[0], &values[1..2]).map(|b| bool_value(!b)),
        Builtin::Lt => compare_less(&values[0], &values[1]).map(bool_value),
        Builtin::Le => less_or_equal(&values[0], &values[1]).map(bool_value),
        Builtin::Gt => less_or_equal(&values[0], &values[1]).map(|b| bool_value(!b)),
        Builtin::Ge => compare_less(&values[0], &values[1]).map(|b| bool_value(!b)),
        _ => Err(FuncError::new("unreachable builtin")),
    }
}

fn less_or_equal(left: &Val, right: &Val) -> std::result::Result<bool, FuncError> {
    if compare_less(left, right)? {
        return Ok(true);
    }
    compare_equal(left, std::slice::from_ref(right))
}

fn length(item: &Val) -> std::result::Result<i64, FuncError> {
    let count = match &item.value {
        None => {
            return Err(FuncError::new(
                "reflect: call of reflect.Value.Type on zero Value",
            ));
        }
        Some(Value::Nil) => return Err(FuncError::new("len of nil pointer")),
        Some(Value::String(s)) => s.len(),
        Some(Value::Slice(s)) => s.items.len(),
        Some(Value::Map(m)) => m.len(),
        Some(other) => return Err(FuncError::new(format!("len of type {}", other.type_name()))),
    };
    Ok(i64::try_from(count).unwrap_or(i64::MAX))
}

/// Go's `indexArg`: an integer index within `0..=cap`.
fn index_argument(index: &Val, cap: usize) -> std::result::Result<usize, FuncError> {
    let number: i128 = match &index.value {
        Some(_) if index.boxed => {
            // `slice` (unlike `index`) does not unwrap interface arguments first.
            return Err(FuncError::new(
                "cannot index slice/array with type interface {}",
            ));
        }
        None | Some(Value::Nil) => return Err(FuncError::new("cannot index slice/array with nil")),
        Some(Value::Int(i) | Value::Int64(i)) => i128::from(*i),
        Some(Value::Uint64(u)) => i128::from(i64::from_ne_bytes(u.to_ne_bytes())),
        Some(Value::Uint8(u)) => i128::from(*u),
        Some(other) => {
            return Err(FuncError::new(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )));
        }
    };
    match usize::try_from(number) {
        Ok(x) if x <= cap => Ok(x),
        _ => Err(FuncError::new(format!("index out of range: {number}"))),
    }
}

fn index(item: &Val, indexes: &[Val]) -> std::result::Result<Val, FuncError> {
    let mut current = match &item.value {
        None | Some(Value::Nil) => return Err(FuncError::new("index of untyped nil")),
        Some(value) => Val::of(value.clone()),
    };
    for key in indexes {
        let key = &key.clone().unboxed();
        let value = current.value.clone().unwrap_or_default();
        current = match value {
            Value::Nil => return Err(FuncError::new("index of nil pointer")),
            Value::Slice(slice) => {
                let x = index_argument(key, slice.items.len())?;
                let element = slice.items.get(x).cloned();
                let element =
                    element.ok_or_else(|| FuncError::new("reflect: slice index out of range"))?;
                Val::element(element, slice.elem)
            }
            Value::String(s) => {
                let x = index_argument(key, s.len())?;
                let byte = s.as_bytes().get(x).copied();
                Val::of(Value::Uint8(byte.ok_or_else(|| {
                    FuncError::new("reflect: string index out of range")
                })?))
            }
            Value::Map(map) => {
                let name = match &key.value {
                    Some(Value::String(s)) => s.clone(),
                    None | Some(Value::Nil) => {
                        return Err(FuncError::new("value is nil; should be of type string"));
                    }
                    Some(other) => {
                        let type_name = other.type_name();
                        return Err(FuncError::new(format!(
                            "value has type {type_name}; should be string"
                        )));
                    }
                };
                let element = map.get(name.as_ref()).unwrap_or_else(|| map.elem.zero());
                Val::element(element, map.elem)
            }
            other => {
                return Err(FuncError::new(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(current)
}

fn slice(item: &Val, indexes: &[Val]) -> std::result::Result<Val, FuncError> {
    let value = match &item.value {
        None | Some(Value::Nil) => return Err(FuncError::new("slice of untyped nil")),
        Some(value) => value.clone(),
    };
    if indexes.len() > 3 {
        return Err(FuncError::new(format!(
            "too many slice indexes: {}",
            indexes.len()
        )));
    }
    let length = match &value {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err(FuncError::new("cannot 3-index slice a string"));
            }
            s.len()
        }
        Value::Slice(s) => s.items.len(),
        other => {
            return Err(FuncError::new(format!(
                "can't slice item of type {}",
                other.type_name()
            )));
        }
    };
    let mut bounds = [0, length, length];
    for (position, index) in indexes.iter().enumerate() {
        bounds[position] = index_argument(index, length)?;
    }
    if bounds[0] > bounds[1] {
        return Err(FuncError::new(format!(
            "invalid slice index: {} > {}",
            bounds[0], bounds[1]
        )));
    }
    if indexes.len() == 3 && bounds[1] > bounds[2] {
        return Err(FuncError::new(format!(
            "invalid slice index: {} > {}",
            bounds[1], bounds[2]
        )));
    }
    Ok(Val::of(match value {
        Value::String(s) => {
            let bytes = &s.as_bytes()[bounds[0]..bounds[1]];
            Value::from(String::from_utf8_lossy(bytes).into_owned())
        }
        Value::Slice(s) => {
            let elem: ElemType = s.elem;
            Value::typed_list(elem, s.items[bounds[0]..bounds[1]].to_vec())
        }
        _ => Value::Nil,
    }))
}
