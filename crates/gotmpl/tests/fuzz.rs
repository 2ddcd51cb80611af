//! Garbled and random template text must never panic or hang, in the parser or the
//! executor.

use std::time::{Duration, Instant};

use ferroflux_gotmpl::{Arity, Function, Template, Value};
use proptest::prelude::*;

/// Fragments that exercise every lexer state and most parser productions.
const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    "\n",
    ".",
    ".a",
    ".b.c",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    "\"s\"",
    "`r`",
    "'c'",
    "1",
    "-2",
    "0x1F",
    "1.5e3",
    "nil",
    "true",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "\"t\"",
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "\"%d %s %v\"",
    "eq",
    "lt",
    "call",
    "/*",
    "*/",
    "text",
    ",",
    "echo",
    "html",
    "js",
    "urlquery",
    "println",
];

fn template_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40)
            .prop_map(|parts| parts.concat()),
        ".{0,80}",
    ]
}

fn data() -> Value {
    Value::from(serde_json::json!({
        "a": [1, 2.5, "x", null, {"k": true}],
        "b": {"c": {"d": "deep"}, "n": null},
        "s": "str",
        "n": 3
    }))
}

fn run(text: &str) {
    let start = Instant::now();
    let mut template = Template::new("fuzz");
    template
        .add_func(
            "echo",
            Function::new(Arity::AtLeast(0), |args| Ok(Value::list(args.to_vec()))),
        )
        .unwrap();
    template.set_max_depth(50);
    if template.parse(text).is_ok() {
        let mut out = String::new();
        let _ = template.execute(&mut out, &data());
        for name in template.template_names() {
            let _ = template.render(&name, &data());
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "template took too long: {text:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics(text in template_text()) {
        run(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let parens = format!("{{{{{}1{}}}}}", "(".repeat(20_000), ")".repeat(20_000));
    run(&parens);
    let ifs = format!("{}x{}", "{{if 1}}".repeat(20_000), "{{end}}".repeat(20_000));
    run(&ifs);
}

#[test]
fn self_recursion_hits_the_depth_limit() {
    let mut template = Template::new("r");
    template
        .parse(r#"{{define "x"}}{{template "x" .}}{{end}}{{template "x" .}}"#)
        .unwrap();
    let error = template.render("r", &Value::Nil).unwrap_err().to_string();
    assert!(
        error.ends_with("exceeded maximum template depth (1000)"),
        "{error}"
    );
}
