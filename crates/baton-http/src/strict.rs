//! A deserializer wrapper that reads JSON as the OpenAPI document describes it, where
//! serde's derives are looser or stricter than JSON Schema:
//!
//! - a struct (a JSON object in the document) is refused when the body has an array
//!   there: derived structs accept `[field1, field2]` too, so `{"visitor": [null, null]}`
//!   would pass as a visitor without details;
//! - an integer field takes a number with a zero fraction (`130.0`): JSON Schema counts
//!   it as the integer 130, serde's integer visitors refuse it.
//!
//! Everything else is forwarded unchanged, nested values included.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

/// What the wrapped visitor expects, for the two adjustments above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Struct,
    Integer,
    Other,
}

/// A [`Deserializer`] whose structs refuse arrays and whose integers take integral floats.
pub(crate) struct Strict<D>(pub(crate) D);

struct StrictVisitor<V> {
    inner: V,
    expect: Expect,
}

struct StrictSeed<S>(S);
struct StrictSeq<A>(A);
struct StrictMap<A>(A);
struct StrictEnum<A>(A);
struct StrictVariant<A>(A);

macro_rules! forward {
    ($($method:ident => $expect:expr),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.0.$method(StrictVisitor { inner: visitor, expect: $expect })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward! {
        deserialize_any => Expect::Other,
        deserialize_bool => Expect::Other,
        deserialize_i8 => Expect::Integer,
        deserialize_i16 => Expect::Integer,
        deserialize_i32 => Expect::Integer,
        deserialize_i64 => Expect::Integer,
        deserialize_i128 => Expect::Integer,
        deserialize_u8 => Expect::Integer,
        deserialize_u16 => Expect::Integer,
        deserialize_u32 => Expect::Integer,
        deserialize_u64 => Expect::Integer,
        deserialize_u128 => Expect::Integer,
        deserialize_f32 => Expect::Other,
        deserialize_f64 => Expect::Other,
        deserialize_char => Expect::Other,
        deserialize_str => Expect::Other,
        deserialize_string => Expect::Other,
        deserialize_bytes => Expect::Other,
        deserialize_byte_buf => Expect::Other,
        deserialize_option => Expect::Other,
        deserialize_unit => Expect::Other,
        deserialize_seq => Expect::Other,
        deserialize_map => Expect::Other,
        deserialize_identifier => Expect::Other,
        deserialize_ignored_any => Expect::Other,
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_unit_struct(
            name,
            StrictVisitor {
                inner: visitor,
                expect: Expect::Other,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(
            name,
            StrictVisitor {
                inner: visitor,
                expect: Expect::Other,
            },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple(
            len,
            StrictVisitor {
                inner: visitor,
                expect: Expect::Other,
            },
        )
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_tuple_struct(
            name,
            len,
            StrictVisitor {
                inner: visitor,
                expect: Expect::Other,
            },
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_struct(
            name,
            fields,
            StrictVisitor {
                inner: visitor,
                expect: Expect::Struct,
            },
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(
            name,
            variants,
            StrictVisitor {
                inner: visitor,
                expect: Expect::Other,
            },
        )
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Beyond 2^53 a float no longer tells integers apart: serde_json reads an integer
/// literal past `i64`/`u64` (`-9223372036854775809`) as the nearest float, which must
/// stay refused rather than become `i64::MIN`.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// The integer a float stands for, when it has no fraction and is exact.
fn integral(v: f64) -> Option<Result<i64, u64>> {
    if v.fract() != 0.0 || !v.is_finite() || v.abs() > EXACT {
        return None;
    }
    // Exact and within ±2^53: the casts cannot round or saturate.
    if v < 0.0 {
        Some(Ok(v as i64))
    } else {
        Some(Err(v as u64))
    }
}

macro_rules! pass {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.inner.$method(v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StrictVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    pass! {
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64),
        visit_i128(i128), visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64),
        visit_u128(u128), visit_f32(f32), visit_char(char), visit_str(&str),
        visit_string(String), visit_bytes(&[u8]), visit_byte_buf(Vec<u8>),
        visit_borrowed_str(&'de str), visit_borrowed_bytes(&'de [u8]),
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        match (self.expect, integral(v)) {
            (Expect::Integer, Some(Ok(i))) => self.inner.visit_i64(i),
            (Expect::Integer, Some(Err(u))) => self.inner.visit_u64(u),
            _ => self.inner.visit_f64(v),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Strict(d))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        if self.expect == Expect::Struct {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self.inner));
        }
        self.inner.visit_seq(StrictSeq(seq))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(StrictMap(map))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(StrictEnum(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for StrictMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(seed)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for StrictEnum<A> {
    type Error = A::Error;
    type Variant = StrictVariant<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(seed)?;
        Ok((value, StrictVariant(variant)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for StrictVariant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(StrictSeed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(
            len,
            StrictVisitor {
                inner: visitor,
                expect: Expect::Other,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(
            fields,
            StrictVisitor {
                inner: visitor,
                expect: Expect::Struct,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde::Deserialize;

    use super::Strict;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        name: Option<String>,
        n: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        inner: Option<Inner>,
        list: Option<Vec<Inner>>,
        id: Option<i64>,
    }

    fn parse(json: &str) -> Result<Outer, serde_json::Error> {
        let mut d = serde_json::Deserializer::from_str(json);
        serde::Deserialize::deserialize(Strict(&mut d))
    }

    #[test]
    fn structs_refuse_arrays_at_any_depth() {
        assert!(parse("[null, null, null]").is_err());
        assert!(parse(r#"{"inner": [null, null]}"#).is_err());
        assert!(parse(r#"{"list": [[null, null]]}"#).is_err());
        assert!(parse(r#"{"list": [{"name": "a"}]}"#).is_ok());
    }

    #[test]
    fn integers_take_integral_floats_only() {
        let outer = parse(r#"{"id": -600328.0, "inner": {"n": 130.0}}"#).unwrap();
        assert_eq!(outer.id, Some(-600328));
        assert_eq!(outer.inner.unwrap().n, Some(130));
        assert!(parse(r#"{"id": 1.5}"#).is_err());
        assert!(parse(r#"{"inner": {"n": -1.0}}"#).is_err());
        assert!(parse(r#"{"inner": {"n": 1e20}}"#).is_err());
        assert!(parse(r#"{"id": -9223372036854775809}"#).is_err());
        assert!(parse(r#"{"id": 9223372036854775808}"#).is_err());
        assert_eq!(
            parse(r#"{"id": 9007199254740992.0}"#).unwrap().id,
            Some(1 << 53)
        );
    }
}
