//! A native implementation of Go's `text/template`, the foundation of ferroflux's Helm
//! renderer (no Go at run time).
//!
//! Pipeline, as in Go:
//! 1. [`lex`](crate::lex) splits text into tokens (delimiters, trim markers, comments,
//!    literals, keywords);
//! 2. [`parse`](crate::parse) builds one tree per template name (`define`/`block` add
//!    more), checking functions and variables as Go's parser does;
//! 3. [`Template`] holds the trees of a set with their [`Function`]s and options;
//! 4. the executor walks a tree against a [`Value`], printing values with a
//!    reimplementation of Go's `fmt` ([`format`]).
//!
//! Values model what Helm hands to templates: `interface{}` holding nil, bools, `int`,
//! `int64`, `float64` (every number in Helm values), strings, `[]interface{}` and
//! `map[string]interface{}`, typed slices and maps, and host objects ([`Object`]).
//! Error messages follow Go's word for word where feasible; see the crate README for the
//! known differences.
//!
//! ```
//! use ferroflux_gotmpl::{Template, Value};
//!
//! let mut template = Template::new("t");
//! template.parse("{{range $k, $v := .}}{{$k}}={{$v}} {{end}}").unwrap();
//! let data = Value::from(serde_json::json!({"b": 2, "a": 1.5}));
//! assert_eq!(template.render("t", &data).unwrap(), "a=1.5 b=2 ");
//! ```

mod ast;
mod builtins;
mod compare;
mod escape;
mod eval;
mod exec;
pub mod format;
mod function;
mod lex;
mod literal;
mod parse;
pub mod sprig;
mod stack;
mod template;
mod typed;
mod value;

pub use escape::{html_escape, js_escape, url_query_escape};
pub use function::{Arity, CallContext, ContextFn, FuncError, Function, ParamType, PlainFn};
pub use template::{DEFAULT_MAX_DEPTH, Error, MissingKey, Template};
pub use value::{ElemType, Map, NumberMode, Object, Slice, Value};
