//! Template functions: the registry entry type shared by built-ins, Sprig and Helm.
//!
//! A function is a closure over argument values. Most functions are plain
//! ([`Function::new`]); functions that must run other templates (Helm's `include` and
//! `tpl`) take a [`CallContext`] ([`Function::with_context`]), which gives them the
//! template set and keeps the nesting-depth limit shared with `{{template}}`.

use std::fmt;
use std::sync::Arc;

use crate::template::Template;
use crate::value::Value;

/// Error returned by a template function. The executor reports it as Go does:
/// `error calling NAME: MESSAGE`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FuncError(pub String);

impl FuncError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        FuncError(message.into())
    }
}

/// How many arguments a function takes; checked before the call, with Go's messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exact(usize),
    /// At least this many (a Go variadic function with this many fixed parameters).
    AtLeast(usize),
}

/// A plain function body.
pub type PlainFn = dyn Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync;

/// A function body that can execute templates of the running set.
pub type ContextFn =
    dyn Fn(&mut CallContext<'_>, &[Value]) -> Result<Value, FuncError> + Send + Sync;

#[derive(Clone)]
enum Body {
    Plain(Arc<PlainFn>),
    Context(Arc<ContextFn>),
}

/// A callable template function.
#[derive(Clone)]
pub struct Function {
    arity: Arity,
    type_name: Arc<str>,
    /// Declared parameter types; empty means every parameter is `interface {}`.
    params: Arc<[ParamType]>,
    variadic: Option<ParamType>,
    body: Body,
}

/// A parameter type Go's executor checks and converts before calling, producing its errors
/// (`wrong type for value; expected int; got string`, `expected integer; found "x"`).
/// Sprig's functions declare such types, so their error messages depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `interface {}`: anything, nil included.
    Any,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `int64`
    Int64,
    /// `float64`
    Float64,
    /// `string`
    String,
    /// `uint32` (Sprig's `derivePassword` counter); passed on as an `int`.
    Uint32,
    /// `[]interface {}`; `nil` is its zero value.
    InterfaceSlice,
    /// A host struct type by its Go name (Sprig's `sprig.certificate`).
    Named(&'static str),
}

impl ParamType {
    /// Go's spelling of the type.
    pub fn go_name(self) -> &'static str {
        match self {
            ParamType::Any => "interface {}",
            ParamType::Bool => "bool",
            ParamType::Int => "int",
            ParamType::Int64 => "int64",
            ParamType::Float64 => "float64",
            ParamType::String => "string",
            ParamType::Uint32 => "uint32",
            ParamType::InterfaceSlice => "[]interface {}",
            ParamType::Named(name) => name,
        }
    }

    /// Whether Go's `canBeNil` holds: a `nil` argument is the type's zero value.
    pub fn can_be_nil(self) -> bool {
        matches!(self, ParamType::Any | ParamType::InterfaceSlice)
    }

    /// Whether a value of this dynamic type can be passed as is.
    pub fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (ParamType::Any, _)
                | (ParamType::Bool, Value::Bool(_))
                | (ParamType::Int, Value::Int(_))
                | (ParamType::Int64, Value::Int64(_))
                | (ParamType::Float64, Value::Float(_))
                | (ParamType::String, Value::String(_))
        ) || match (self, value) {
            (ParamType::InterfaceSlice, Value::Slice(slice)) => {
                slice.elem == crate::value::ElemType::Interface
            }
            (ParamType::Named(name), Value::Object(object)) => object.type_name() == name,
            _ => false,
        }
    }
}

impl Function {
    /// A function over argument values.
    pub fn new(
        arity: Arity,
        body: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    ) -> Self {
        Function {
            arity,
            type_name: default_type_name(arity),
            params: Arc::from([]),
            variadic: None,
            body: Body::Plain(Arc::new(body)),
        }
    }

    /// A function from an already shared closure.
    pub fn from_arc(arity: Arity, body: Arc<PlainFn>) -> Self {
        Function {
            arity,
            type_name: default_type_name(arity),
            params: Arc::from([]),
            variadic: None,
            body: Body::Plain(body),
        }
    }

    /// A function that receives the execution context (for `include`, `tpl`).
    pub fn with_context(
        arity: Arity,
        body: impl Fn(&mut CallContext<'_>, &[Value]) -> Result<Value, FuncError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Function {
            arity,
            type_name: default_type_name(arity),
            params: Arc::from([]),
            variadic: None,
            body: Body::Context(Arc::new(body)),
        }
    }

    /// Sets the Go type shown by `%T` (e.g. `func(string) string`).
    #[must_use]
    pub fn with_type_name(mut self, type_name: &str) -> Self {
        self.type_name = Arc::from(type_name);
        self
    }

    /// Declares Go parameter types: `params` fixed ones, then optionally a variadic type.
    /// The arity follows from them.
    #[must_use]
    pub fn with_params(mut self, params: &[ParamType], variadic: Option<ParamType>) -> Self {
        self.params = Arc::from(params);
        self.variadic = variadic;
        self.arity = match variadic {
            Some(_) => Arity::AtLeast(params.len()),
            None => Arity::Exact(params.len()),
        };
        self
    }

    /// The declared arity.
    pub fn arity(&self) -> Arity {
        self.arity
    }

    /// Type of the parameter receiving argument `index` (`interface {}` when undeclared).
    pub fn param_type(&self, index: usize) -> ParamType {
        self.params
            .get(index)
            .copied()
            .or(self.variadic)
            .unwrap_or(ParamType::Any)
    }

    /// The Go type name.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// Calls the function; plain functions ignore the context.
    pub fn call(&self, context: &mut CallContext<'_>, args: &[Value]) -> Result<Value, FuncError> {
        match &self.body {
            Body::Plain(body) => body(args),
            Body::Context(body) => body(context, args),
        }
    }

    /// Calls a plain function outside any execution (context functions get an empty one).
    pub fn call_plain(&self, args: &[Value]) -> Result<Value, FuncError> {
        match &self.body {
            Body::Plain(body) => body(args),
            Body::Context(_) => Err(FuncError::new("function needs an execution context")),
        }
    }
}

fn default_type_name(arity: Arity) -> Arc<str> {
    let parameters = match arity {
        Arity::Exact(n) => vec!["interface {}"; n].join(", "),
        Arity::AtLeast(n) => {
            let mut parameters = vec!["interface {}"; n];
            parameters.push("...interface {}");
            parameters.join(", ")
        }
    };
    Arc::from(format!("func({parameters}) interface {{}}"))
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Function")
            .field("arity", &self.arity)
            .finish_non_exhaustive()
    }
}

/// What a context function can reach while a template executes.
pub struct CallContext<'a> {
    pub(crate) template: &'a Template,
    pub(crate) depth: usize,
}

impl<'a> CallContext<'a> {
    /// The template set being executed (with its functions and options).
    pub fn template(&self) -> &'a Template {
        self.template
    }

    /// Executes the named template of `set` with `data`, one level deeper than the caller,
    /// so runaway recursion through functions hits the same depth limit as `{{template}}`.
    pub fn execute(
        &mut self,
        set: &Template,
        name: &str,
        data: &Value,
    ) -> Result<String, FuncError> {
        let mut out = String::new();
        set.execute_nested(&mut out, name, data, self.depth + 1)
            .map_err(|error| FuncError::new(error.to_string()))?;
        Ok(out)
    }
}
