//! The YAML layer: go-yaml v3 style reading and go-yaml v2 (via JSON) style writing (the
//! emitter and the scalar resolvers are shared with the Helm engine in ferroflux-goyaml).

mod parse;

pub use ferroflux_goyaml::resolve_plain_v3 as resolve_plain;
pub use ferroflux_goyaml::{natural_order, to_yaml};
pub use parse::{ParseError, parse_documents, parse_documents_yaml11};

/// A character that Go's JSON encoder writes raw but go-yaml refuses to read back, which
/// makes kustomize's final JSON-to-YAML conversion fail.
pub fn unreadable_character(value: &serde_json::Value) -> Option<char> {
    let bad = |character: &char| {
        let code = u32::from(*character);
        (0x7F..=0x9F).contains(&code) && code != 0x85 || code == 0xFFFE || code == 0xFFFF
    };
    match value {
        serde_json::Value::String(text) => text.chars().find(bad),
        serde_json::Value::Array(items) => items.iter().find_map(unreadable_character),
        serde_json::Value::Object(map) => map
            .keys()
            .find_map(|key| key.chars().find(bad))
            .or_else(|| map.values().find_map(unreadable_character)),
        _ => None,
    }
}

/// `Value::pointer` without its per-token allocation: plain tokens are looked up as they
/// are, and a pointer with `~` escapes goes to serde_json's own.
pub fn pointer<'a>(value: &'a serde_json::Value, pointer: &str) -> Option<&'a serde_json::Value> {
    if pointer.contains('~') {
        return value.pointer(pointer);
    }
    if pointer.is_empty() {
        return Some(value);
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/')
        .try_fold(value, |target, token| match target {
            serde_json::Value::Object(map) => map.get(token),
            serde_json::Value::Array(items) => {
                if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
                    return None;
                }
                items.get(token.parse::<usize>().ok()?)
            }
            _ => None,
        })
}
