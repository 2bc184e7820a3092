//! Reading JSON fields for the profile parser: each reader names the field it reads in its
//! error ([`Ctx::err`]), keys are matched without regard to case ([`get`]), and [`KeyOrder`]
//! keeps the order the author wrote an object's keys in, which `serde_json` loses.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::model::ProfileError;

/// Where the profile came from (file or built-in name), named in every error.
pub(super) struct Ctx<'a> {
    pub(super) origin: &'a str,
}

impl Ctx<'_> {
    /// A [`ProfileError::Field`] for `field`.
    pub(super) fn err(&self, field: impl Into<String>, message: impl Into<String>) -> ProfileError {
        ProfileError::Field {
            origin: self.origin.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The value of `key` in `obj`, matched without regard to case.
pub(super) fn get<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(written, _)| written.eq_ignore_ascii_case(key))
            .map(|(_, value)| value)
    })
}

/// A JSON type as messages name it: `a list`, `an object`.
pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A boolean field, `default` when absent.
pub(super) fn bool_field(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
    default: bool,
) -> Result<bool, ProfileError> {
    match get(obj, key) {
        None => Ok(default),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(value) => Err(cx.err(
            field,
            format!(
                "must be true or false (without quotes), not {}",
                type_name(value)
            ),
        )),
    }
}

/// A list of strings, trimmed; `None` when absent.
pub(super) fn string_list(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<Vec<String>>, ProfileError> {
    let Some(value) = get(obj, key) else {
        return Ok(None);
    };
    let Value::Array(items) = value else {
        return Err(cx.err(
            field,
            format!(
                "must be a list of strings such as [\"a\", \"b\"], not {}",
                type_name(value)
            ),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(text) => Ok(text.trim().to_string()),
            other => Err(cx.err(
                format!("{field}[{index}]"),
                format!(
                    "must be a string (write it in quotes, e.g. \"1.0\"), not {}",
                    type_name(other)
                ),
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A string field, trimmed; `None` when absent or null.
pub(super) fn opt_string(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<String>, ProfileError> {
    match get(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_string())),
        Some(value) => Err(cx.err(field, format!("must be a string, not {}", type_name(value)))),
    }
}

/// A string field that must be there and not empty; its field is `section.key`.
pub(super) fn required_string(
    cx: &Ctx,
    obj: &Map<String, Value>,
    key: &str,
    section: &str,
) -> Result<String, ProfileError> {
    let field = format!("{section}.{key}");
    match opt_string(cx, obj, key, &field)? {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(cx.err(
            field,
            format!("is required by the BagIt Profiles spec; add \"{key}\": \"…\" to {section}"),
        )),
    }
}

/// The keys of every JSON object, in the order written: `serde_json` keeps objects sorted (the
/// crate is built without `preserve_order`), but a profile's tag rules are reported in the
/// author's order.
#[derive(Default)]
pub(super) struct KeyOrder(Vec<(String, KeyOrder)>);

impl KeyOrder {
    /// The order inside the object at `key` (matched exactly, else without regard to case).
    pub(super) fn child(&self, key: &str) -> Option<&KeyOrder> {
        self.0
            .iter()
            .find(|(written, _)| written == key)
            .or_else(|| {
                self.0
                    .iter()
                    .find(|(written, _)| written.eq_ignore_ascii_case(key))
            })
            .map(|(_, inner)| inner)
    }

    /// Where `key` was written; unknown keys last.
    fn position(&self, key: &str) -> usize {
        self.0
            .iter()
            .position(|(written, _)| written == key)
            .unwrap_or(usize::MAX)
    }
}

impl<'de> Deserialize<'de> for KeyOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyOrder;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, inner)) = map.next_entry::<String, KeyOrder>()? {
                    keys.push((key, inner));
                }
                Ok(KeyOrder(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyOrder, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KeyOrder::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_unit<E>(self) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
            fn visit_none<E>(self) -> Result<KeyOrder, E> {
                Ok(KeyOrder::default())
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// The entries of `obj` in the order written (`order`), else sorted.
pub(super) fn ordered<'v>(
    obj: &'v Map<String, Value>,
    order: Option<&KeyOrder>,
) -> Vec<(&'v String, &'v Value)> {
    let mut entries: Vec<_> = obj.iter().collect();
    if let Some(order) = order {
        entries.sort_by_key(|(key, _)| order.position(key));
    }
    entries
}
