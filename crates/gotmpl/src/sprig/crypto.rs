//! Randomness: `randAlphaNum`, `randBytes`, `uuidv4`, `randInt`, `shuffle`, ...
//! Keys and certificates live in `certs`, passwords and AES in `passwords`.

use rand::Rng as _;
use rand::seq::SliceRandom as _;

use super::{Registry, arg_int, arg_str};
use crate::function::{FuncError, ParamType as P};
use crate::value::Value;

const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC: &[u8] = b"0123456789";

pub(crate) fn register(r: &mut Registry) {
    let alphanumeric: Vec<u8> = [ALPHA, NUMERIC].concat();
    let ascii: Vec<u8> = (32u8..=126).collect();
    for (name, set) in [
        ("randAlphaNum", alphanumeric),
        ("randAlpha", ALPHA.to_vec()),
        ("randNumeric", NUMERIC.to_vec()),
        ("randAscii", ascii),
    ] {
        r.typed(name, &[P::Int], None, move |a| {
            let count = usize::try_from(arg_int(a, 0)).unwrap_or(0).min(1 << 20);
            let mut rng = rand::rng();
            let text: String = (0..count)
                .map(|_| char::from(set[rng.random_range(0..set.len())]))
                .collect();
            Ok(Value::from(text))
        });
    }
    r.typed("randBytes", &[P::Int], None, |a| {
        use base64::Engine as _;
        let count = usize::try_from(arg_int(a, 0)).unwrap_or(0).min(1 << 20);
        let bytes: Vec<u8> = (0..count).map(|_| rand::random::<u8>()).collect();
        Ok(Value::from(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    });
    r.typed("randInt", &[P::Int, P::Int], None, |a| {
        let (min, max) = (arg_int(a, 0), arg_int(a, 1));
        if max <= min {
            return Err(FuncError::new("invalid argument to Intn"));
        }
        Ok(Value::Int(rand::rng().random_range(min..max)))
    });
    r.typed("uuidv4", &[], None, |_| Ok(Value::from(uuid_v4())));
    r.typed("shuffle", &[P::String], None, |a| {
        let mut chars: Vec<char> = arg_str(a, 0).chars().collect();
        chars.shuffle(&mut rand::rng());
        Ok(Value::from(chars.into_iter().collect::<String>()))
    });
}

fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
