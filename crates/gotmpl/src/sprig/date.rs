//! Dates: `now`, `date`, `dateInZone`, `htmlDate`, `toDate`, `unixEpoch`, `ago`,
//! `duration`, `durationRound`, `dateModify`. Times are UTC `time.Time` objects.

use std::sync::Arc;

use jiff::{Timestamp, tz::TimeZone};

use super::{FnResult, Registry, arg_str, to_int64};
use crate::function::{Arity, FuncError, ParamType as P};
use crate::value::{Object, Value};

/// A Go `time.Time`.
#[derive(Debug)]
pub struct GoTime(pub Timestamp);

impl Object for GoTime {
    fn type_name(&self) -> String {
        "time.Time".to_owned()
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<crate::Function> {
        let time = self.0;
        match name {
            "Unix" => Some(crate::Function::new(Arity::Exact(0), move |_| {
                Ok(Value::Int64(time.as_second()))
            })),
            "Format" => Some(crate::Function::new(Arity::Exact(1), move |a| {
                Ok(Value::from(go_format(
                    time,
                    a[0].as_str().unwrap_or_default(),
                )))
            })),
            _ => None,
        }
    }

    fn to_go_string(&self) -> Option<String> {
        Some(go_format(self.0, "2006-01-02 15:04:05.999999999 -0700 MST"))
    }

    fn is_pointer(&self) -> bool {
        false
    }
}

fn time_value(time: Timestamp) -> Value {
    Value::Object(Arc::new(GoTime(time)))
}

fn time_of(value: &Value) -> Timestamp {
    match value {
        Value::Object(o) if o.type_name() == "time.Time" => {
            let seconds = o
                .method("Unix")
                .and_then(|f| f.call_plain(&[]).ok())
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            Timestamp::from_second(seconds).unwrap_or_else(|_| Timestamp::now())
        }
        Value::Int(_) | Value::Int64(_) | Value::Uint64(_) => {
            Timestamp::from_second(to_int64(value)).unwrap_or_else(|_| Timestamp::now())
        }
        _ => Timestamp::now(),
    }
}

pub(crate) fn register(r: &mut Registry) {
    r.typed("now", &[], None, |_| Ok(time_value(Timestamp::now())));
    r.typed("date", &[P::String, P::Any], None, |a| {
        Ok(Value::from(go_format(time_of(&a[1]), arg_str(a, 0))))
    });
    r.typed("dateInZone", &[P::String, P::Any, P::String], None, |a| {
        Ok(Value::from(go_format(time_of(&a[1]), arg_str(a, 0))))
    });
    r.any("htmlDate", Arity::Exact(1), |a| {
        Ok(Value::from(go_format(time_of(&a[0]), "2006-01-02")))
    });
    r.typed("htmlDateInZone", &[P::Any, P::String], None, |a| {
        Ok(Value::from(go_format(time_of(&a[0]), "2006-01-02")))
    });
    r.any("unixEpoch", Arity::Exact(1), |a| {
        Ok(Value::from(time_of(&a[0]).as_second().to_string()))
    });
    for (name, must) in [("toDate", false), ("mustToDate", true)] {
        r.typed(
            name,
            &[P::String, P::String],
            None,
            move |a| match parse_date(arg_str(a, 1)) {
                Some(time) => Ok(time_value(time)),
                None if must => Err(FuncError::new(format!(
                    "parsing time {:?} as {:?}: cannot parse",
                    arg_str(a, 1),
                    arg_str(a, 0)
                ))),
                None => Ok(time_value(Timestamp::UNIX_EPOCH)),
            },
        );
    }
    r.any("ago", Arity::Exact(1), |a| {
        let seconds = Timestamp::now().as_second() - time_of(&a[0]).as_second();
        Ok(Value::from(go_duration(seconds)))
    });
    r.any("duration", Arity::Exact(1), |a| {
        Ok(Value::from(go_duration(to_int64(&a[0]))))
    });
    r.any("durationRound", Arity::Exact(1), |a| {
        Ok(Value::from(duration_round(&a[0])))
    });
    for name in ["dateModify", "mustDateModify"] {
        r.typed(name, &[P::String, P::Any], None, |a| Ok(a[1].clone()));
    }
}

fn parse_date(text: &str) -> Option<Timestamp> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Some(time);
    }
    let date: jiff::civil::Date = text.parse().ok()?;
    date.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// Go's `time.Duration.String` for whole seconds.
fn go_duration(seconds: i64) -> String {
    if seconds == 0 {
        return "0s".to_owned();
    }
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{sec}s")
    } else if m > 0 {
        format!("{sign}{m}m{sec}s")
    } else {
        format!("{sign}{sec}s")
    }
}

fn duration_round(value: &Value) -> String {
    let seconds = match value {
        Value::Object(_) => Timestamp::now().as_second() - time_of(value).as_second(),
        Value::String(s) => s.trim_end_matches('s').parse().unwrap_or(0),
        other => to_int64(other) / 1_000_000_000,
    }
    .unsigned_abs();
    let (year, month, day, hour, minute) = (31_536_000, 2_592_000, 86_400, 3_600, 60);
    match seconds {
        s if s >= year => format!("{}y", s / year),
        s if s >= month => format!("{}mo", s / month),
        s if s >= day => format!("{}d", s / day),
        s if s >= hour => format!("{}h", s / hour),
        s if s >= minute => format!("{}m", s / minute),
        s => format!("{s}s"),
    }
}

/// Go's reference-time layouts (`2006-01-02 15:04:05`), in UTC.
pub(crate) fn go_format(time: Timestamp, layout: &str) -> String {
    let zoned = time.to_zoned(TimeZone::UTC);
    let tokens: [(&str, String); 25] = [
        ("January", zoned.strftime("%B").to_string()),
        ("Monday", zoned.strftime("%A").to_string()),
        ("2006", format!("{:04}", zoned.year())),
        ("-07:00", "+00:00".to_owned()),
        ("Z07:00", "Z".to_owned()),
        ("-0700", "+0000".to_owned()),
        (".999999999", trim_fraction(zoned.subsec_nanosecond())),
        (
            ".000",
            format!(".{:03}", zoned.subsec_nanosecond() / 1_000_000),
        ),
        ("Jan", zoned.strftime("%b").to_string()),
        ("Mon", zoned.strftime("%a").to_string()),
        ("MST", "UTC".to_owned()),
        ("01", format!("{:02}", zoned.month())),
        ("02", format!("{:02}", zoned.day())),
        ("_2", format!("{:>2}", zoned.day())),
        ("15", format!("{:02}", zoned.hour())),
        ("03", format!("{:02}", (zoned.hour() + 11) % 12 + 1)),
        ("04", format!("{:02}", zoned.minute())),
        ("05", format!("{:02}", zoned.second())),
        ("06", format!("{:02}", zoned.year() % 100)),
        (
            "PM",
            if zoned.hour() >= 12 { "PM" } else { "AM" }.to_owned(),
        ),
        (
            "pm",
            if zoned.hour() >= 12 { "pm" } else { "am" }.to_owned(),
        ),
        ("1", zoned.month().to_string()),
        ("2", zoned.day().to_string()),
        ("3", ((zoned.hour() + 11) % 12 + 1).to_string()),
        ("4", zoned.minute().to_string()),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (token, replacement) in &tokens {
            if let Some(after) = rest.strip_prefix(token) {
                out.push_str(replacement);
                rest = after;
                continue 'outer;
            }
        }
        if let Some(after) = rest.strip_prefix('5') {
            out.push_str(&zoned.second().to_string());
            rest = after;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn trim_fraction(nanos: i32) -> String {
    if nanos == 0 {
        return String::new();
    }
    format!(".{nanos:09}").trim_end_matches('0').to_owned()
}

#[expect(
    dead_code,
    reason = "shared result alias kept for future date functions"
)]
fn unused(_: FnResult) {}
