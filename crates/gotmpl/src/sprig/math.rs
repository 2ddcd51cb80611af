//! Arithmetic: Sprig's int64 functions (cast rules), float functions, sequences.

use super::{FnResult, Registry, arg_int, to_float64, to_int64};
use crate::function::{Arity, FuncError, ParamType as P};
use crate::value::{ElemType, Value};

pub(crate) fn register(r: &mut Registry) {
    r.any("add1", Arity::Exact(1), |a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_add(1)))
    });
    r.any("add", Arity::AtLeast(0), |a| {
        Ok(Value::Int64(
            a.iter().map(to_int64).fold(0, i64::wrapping_add),
        ))
    });
    r.any("sub", Arity::Exact(2), |a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    r.any("mul", Arity::AtLeast(1), |a| {
        Ok(Value::Int64(
            a.iter().map(to_int64).fold(1, i64::wrapping_mul),
        ))
    });
    r.any("div", Arity::Exact(2), |a| {
        int_division(a, i64::checked_div)
    });
    r.any("mod", Arity::Exact(2), |a| {
        int_division(a, i64::checked_rem)
    });
    for name in ["max", "biggest"] {
        r.any(name, Arity::AtLeast(1), |a| {
            Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))
        });
    }
    r.any("min", Arity::AtLeast(1), |a| {
        Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))
    });
    r.any("maxf", Arity::AtLeast(1), |a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::NEG_INFINITY, go_max),
        ))
    });
    r.any("minf", Arity::AtLeast(1), |a| {
        Ok(Value::Float(
            a.iter().map(to_float64).fold(f64::INFINITY, go_min),
        ))
    });
    r.any("add1f", Arity::Exact(1), |a| {
        Ok(Value::Float(decimal(to_float64(&a[0]) + 1.0)))
    });
    r.any("addf", Arity::AtLeast(0), |a| {
        Ok(Value::Float(decimal(a.iter().map(to_float64).sum())))
    });
    r.any("subf", Arity::AtLeast(1), |a| {
        let first = to_float64(&a[0]);
        Ok(Value::Float(decimal(
            a[1..].iter().map(to_float64).fold(first, |x, y| x - y),
        )))
    });
    r.any("mulf", Arity::AtLeast(1), |a| {
        Ok(Value::Float(decimal(a.iter().map(to_float64).product())))
    });
    r.any("divf", Arity::AtLeast(1), |a| {
        let first = to_float64(&a[0]);
        Ok(Value::Float(decimal(
            a[1..].iter().map(to_float64).fold(first, |x, y| x / y),
        )))
    });
    r.any("floor", Arity::Exact(1), |a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    r.any("ceil", Arity::Exact(1), |a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    r.typed("round", &[P::Any, P::Int], Some(P::Float64), |a| {
        let half = a.get(2).map_or(0.5, to_float64);
        let precision = i32::try_from(arg_int(a, 1)).unwrap_or(0);
        let scale = 10f64.powi(precision);
        let value = to_float64(&a[0]) * scale;
        let rounded = if value.fract() >= half {
            value.ceil()
        } else {
            value.floor()
        };
        Ok(Value::Float(rounded / scale))
    });
    r.any("int", Arity::Exact(1), |a| Ok(Value::Int(to_int64(&a[0]))));
    r.any("int64", Arity::Exact(1), |a| {
        Ok(Value::Int64(to_int64(&a[0])))
    });
    r.any("float64", Arity::Exact(1), |a| {
        Ok(Value::Float(to_float64(&a[0])))
    });
    r.any("toDecimal", Arity::Exact(1), |a| {
        Ok(Value::Int64(
            i64::from_str_radix(&super::strval(&a[0]), 8).unwrap_or(0),
        ))
    });
    register_sequences(r);
}

fn register_sequences(r: &mut Registry) {
    r.typed("until", &[P::Int], None, |a| {
        let count = arg_int(a, 0);
        let step = if count < 0 { -1 } else { 1 };
        int_range(0, count, step)
    });
    r.typed("untilStep", &[P::Int, P::Int, P::Int], None, |a| {
        int_range(arg_int(a, 0), arg_int(a, 1), arg_int(a, 2))
    });
    r.typed("seq", &[], Some(P::Int), |a| {
        let numbers: Vec<i64> = a.iter().filter_map(Value::as_i64).collect();
        let (start, step, end) = match numbers.as_slice() {
            [] => return Ok(Value::from("")),
            [end] => (1, if *end >= 1 { 1 } else { -1 }, *end),
            [start, end] => (*start, if end >= start { 1 } else { -1 }, *end),
            [start, step, end, ..] => (*start, *step, *end),
        };
        let stop = end + step.signum();
        let Ok(Value::Slice(items)) = int_range(start, stop, step) else {
            return Ok(Value::from(""));
        };
        let parts: Vec<String> = items
            .items
            .iter()
            .map(|v| v.as_i64().unwrap_or(0).to_string())
            .collect();
        Ok(Value::from(parts.join(" ")))
    });
}

const MAX_SEQUENCE: usize = 10_000_000;

fn int_range(start: i64, stop: i64, step: i64) -> FnResult {
    let mut items = Vec::new();
    let mut current = start;
    if step == 0 || (step > 0 && start >= stop) || (step < 0 && start <= stop) {
        return Ok(Value::typed_list(ElemType::Int, items));
    }
    while (step > 0 && current < stop) || (step < 0 && current > stop) {
        if items.len() >= MAX_SEQUENCE {
            return Err(FuncError::new("sequence too long"));
        }
        items.push(Value::Int(current));
        current = match current.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }
    Ok(Value::typed_list(ElemType::Int, items))
}

fn int_division(a: &[Value], op: fn(i64, i64) -> Option<i64>) -> FnResult {
    let (x, y) = (to_int64(&a[0]), to_int64(&a[1]));
    if y == 0 {
        return Err(FuncError::new("runtime error: integer divide by zero"));
    }
    Ok(Value::Int64(op(x, y).unwrap_or(x)))
}

fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// Sprig computes float arithmetic with shopspring/decimal; rounding the binary result to
/// 15 significant digits reproduces its answers for the usual operands (`0.1 + 0.2 = 0.3`).
fn decimal(value: f64) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    let text = format!("{value:.14e}");
    text.parse().unwrap_or(value)
}
