//! Sprig v3's function library (Masterminds/sprig `TxtFuncMap`), reimplemented over
//! [`Value`]s with Go's conversion rules (spf13/cast for numbers, `fmt` for strings).
//!
//! [`sprig_functions`] returns every function by name; Helm's layer removes `env` and
//! `expandenv` and adds its own (`include`, `tpl`, `toYaml`, ...).

mod certs;
mod collections;
mod convert;
mod crypto;
mod date;
mod dicts;
mod encoding;
pub mod json;
mod math;
mod passwords;
mod reflection;
mod strings;

use crate::function::{Arity, FuncError, Function, ParamType};
use crate::value::Value;

pub use convert::{empty, strslice, strval, to_float64, to_int64};

/// Result type of every Sprig function body.
pub(crate) type FnResult = Result<Value, FuncError>;

/// A registry under construction.
pub(crate) struct Registry(pub(crate) Vec<(&'static str, Function)>);

impl Registry {
    /// A function over untyped (`interface {}`) parameters.
    pub(crate) fn any(
        &mut self,
        name: &'static str,
        arity: Arity,
        body: impl Fn(&[Value]) -> FnResult + Send + Sync + 'static,
    ) {
        self.0.push((name, Function::new(arity, body)));
    }

    /// A function with declared Go parameter types.
    pub(crate) fn typed(
        &mut self,
        name: &'static str,
        params: &[ParamType],
        variadic: Option<ParamType>,
        body: impl Fn(&[Value]) -> FnResult + Send + Sync + 'static,
    ) {
        let function =
            Function::new(Arity::Exact(params.len()), body).with_params(params, variadic);
        self.0.push((name, function));
    }
}

/// Every Sprig v3 function, `env` and `expandenv` included (Helm deletes them).
pub fn sprig_functions() -> Vec<(&'static str, Function)> {
    let mut registry = Registry(Vec::new());
    strings::register(&mut registry);
    collections::register(&mut registry);
    dicts::register(&mut registry);
    math::register(&mut registry);
    encoding::register(&mut registry);
    reflection::register(&mut registry);
    crypto::register(&mut registry);
    certs::register(&mut registry);
    passwords::register(&mut registry);
    date::register(&mut registry);
    registry.0
}

/// The string argument at `index` (parameters declared `string` are already checked).
pub(crate) fn arg_str(args: &[Value], index: usize) -> &str {
    args.get(index).and_then(Value::as_str).unwrap_or_default()
}

/// The integer argument at `index` (parameters declared `int`).
pub(crate) fn arg_int(args: &[Value], index: usize) -> i64 {
    args.get(index).and_then(Value::as_i64).unwrap_or_default()
}

/// The bool argument at `index`.
pub(crate) fn arg_bool(args: &[Value], index: usize) -> bool {
    matches!(args.get(index), Some(Value::Bool(true)))
}

/// A `[]string` value.
pub(crate) fn string_list(items: Vec<String>) -> Value {
    Value::typed_list(
        crate::value::ElemType::String,
        items.into_iter().map(Value::from).collect(),
    )
}
