//! A fast path for postcard's encoding of small fixed-shape values: numbers, `bool`, `char`,
//! `()`, `Option`s of them, and tuples and structs made of them.
//!
//! The bytes are exactly postcard's (varints for integers wider than a byte, zig-zag for signed
//! ones, little-endian floats, a tag byte for `Option`, fields one after another), so the two
//! codecs mix freely: a value [`encode`]d here decodes with `postcard::from_bytes` and the
//! other way round. What this path does not take (strings, sequences, maps, enums, 128-bit
//! integers, a value over the buffer) it refuses at once, and the caller falls back to postcard.
//! Typed queues try it first: for a `u64` it does in a handful of instructions what postcard's
//! general machinery does in several dozen.
//!
//! [`decode`] is stricter than postcard, never looser: it accepts only the canonical bytes its
//! own encoder writes (shortest varints, `0`/`1` booleans and tags) and refuses the rest,
//! hostile input included, so anything it accepts postcard decodes to the same value, and for
//! anything else postcard decides and reports the precise error.
//!
//! Provenance: the wire format is postcard's (its specification's varint, zig-zag and
//! `Option` rules); the code is ours.
//!
//! ```
//! use multiproc_queue::fixed;
//!
//! let mut buf = [0u8; 32];
//! let n = fixed::encode(&(7u32, -1i64, Some(2.5f32)), &mut buf).expect("fixed shape");
//! assert_eq!(&buf[..n], postcard::to_allocvec(&(7u32, -1i64, Some(2.5f32)))?.as_slice());
//! assert_eq!(fixed::decode::<(u32, i64, Option<f32>)>(&buf[..n]), Some((7, -1, Some(2.5))));
//! assert_eq!(fixed::encode(&"text", &mut buf), None); // a string: postcard's job
//! # Ok::<(), postcard::Error>(())
//! ```

use serde::de::{self, DeserializeOwned, Visitor};
use serde::ser::{self, Impossible, Serialize};
use std::fmt;

/// Encodes `value` into `out` with postcard's bytes if it has a fixed shape and fits; returns
/// the length written, or `None` (then nothing useful is in `out`: use postcard).
///
/// # Examples
///
/// ```
/// let mut buf = [0u8; 16];
/// assert_eq!(multiproc_queue::fixed::encode(&300u64, &mut buf), Some(2));
/// assert_eq!(&buf[..2], &[0xac, 0x02]);
/// ```
#[inline]
pub fn encode<T: Serialize + ?Sized>(value: &T, out: &mut [u8]) -> Option<usize> {
    let mut enc = Encoder { out, len: 0 };
    value.serialize(&mut enc).ok()?;
    Some(enc.len)
}

/// Decodes a `T` that takes up all of `bytes`, if they are the canonical postcard encoding of a
/// fixed-shape value; `None` otherwise (postcard may still accept them, or say what is wrong).
///
/// # Examples
///
/// ```
/// use multiproc_queue::fixed::decode;
///
/// assert_eq!(decode::<u64>(&[0xac, 0x02]), Some(300));
/// assert_eq!(decode::<u64>(&[0xac, 0x02, 0]), None); // a byte left over
/// assert_eq!(decode::<u8>(&[]), None); // too short
/// assert_eq!(decode::<String>(&[1, b'a']), None); // not a fixed shape
/// ```
#[inline]
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let mut dec = Decoder { bytes };
    let v = T::deserialize(&mut dec).ok()?;
    dec.bytes.is_empty().then_some(v)
}

/// Why the fast path gave up. Carries nothing: the caller falls back to postcard, which
/// reports real errors precisely.
#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a fixed-shape value")
    }
}

impl std::error::Error for Refused {}

impl ser::Error for Refused {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Self
    }
}

impl de::Error for Refused {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Self
    }
}

/// Zig-zag: small magnitudes of either sign become small unsigned numbers.
#[inline]
#[allow(clippy::cast_sign_loss)] // bit reinterpretation intended
fn zig(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
#[allow(clippy::cast_possible_wrap)] // bit reinterpretation intended
fn unzig(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The least significant byte of `v`.
#[inline]
fn low_byte(v: u64) -> u8 {
    v.to_le_bytes()[0]
}

struct Encoder<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Encoder<'_> {
    #[inline]
    fn bytes(&mut self, b: &[u8]) -> Result<(), Refused> {
        let end = self.len + b.len();
        self.out
            .get_mut(self.len..end)
            .ok_or(Refused)?
            .copy_from_slice(b);
        self.len = end;
        Ok(())
    }

    #[inline]
    fn byte(&mut self, b: u8) -> Result<(), Refused> {
        *self.out.get_mut(self.len).ok_or(Refused)? = b;
        self.len += 1;
        Ok(())
    }

    /// A LEB128 varint, least significant group first.
    #[inline]
    fn varint(&mut self, mut v: u64) -> Result<(), Refused> {
        // Up to eight groups (56 bits): gather the bytes in a word and store it at once. One
        // wide store (rather than a store per byte) also lets the copy that reads the buffer
        // next load the bytes straight from the store buffer.
        if v < 1 << 56 {
            if let Some(dst) = self.out.get_mut(self.len..self.len + 8) {
                let mut word = 0u64;
                let mut n = 0;
                while v >= 0x80 {
                    word |= ((v & 0x7f) | 0x80) << (8 * n);
                    v >>= 7;
                    n += 1;
                }
                word |= v << (8 * n);
                dst.copy_from_slice(&word.to_le_bytes());
                self.len += n + 1;
                return Ok(());
            }
        }
        while v >= 0x80 {
            self.byte(low_byte(v) | 0x80)?;
            v >>= 7;
        }
        self.byte(low_byte(v))
    }
}

impl<'a> ser::Serializer for &mut Encoder<'a> {
    type Ok = ();
    type Error = Refused;
    type SerializeSeq = Impossible<(), Refused>;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Impossible<(), Refused>;
    type SerializeMap = Impossible<(), Refused>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Refused>;

    fn serialize_bool(self, v: bool) -> Result<(), Refused> {
        self.byte(u8::from(v))
    }
    fn serialize_i8(self, v: i8) -> Result<(), Refused> {
        self.byte(v.to_le_bytes()[0])
    }
    fn serialize_i16(self, v: i16) -> Result<(), Refused> {
        self.varint(zig(i64::from(v)))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Refused> {
        self.varint(zig(i64::from(v)))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Refused> {
        self.varint(zig(v))
    }
    fn serialize_u8(self, v: u8) -> Result<(), Refused> {
        self.byte(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Refused> {
        self.varint(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Refused> {
        self.varint(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Refused> {
        self.varint(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Refused> {
        self.bytes(&v.to_bits().to_le_bytes())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Refused> {
        self.bytes(&v.to_bits().to_le_bytes())
    }
    fn serialize_char(self, v: char) -> Result<(), Refused> {
        // As postcard: the UTF-8 bytes with their length in front, like a string.
        let mut buf = [0u8; 4];
        let s = v.encode_utf8(&mut buf);
        self.varint(s.len() as u64)?;
        self.bytes(s.as_bytes())
    }
    fn serialize_str(self, _: &str) -> Result<(), Refused> {
        Err(Refused)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Refused> {
        Err(Refused)
    }
    fn serialize_none(self) -> Result<(), Refused> {
        self.byte(0)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Refused> {
        self.byte(1)?;
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Refused> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Refused> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Refused> {
        Err(Refused)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Refused> {
        Err(Refused)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Refused> {
        Err(Refused)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Refused> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Refused> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Refused> {
        Err(Refused)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Refused> {
        Err(Refused)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Refused> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Refused> {
        Err(Refused)
    }
    fn serialize_i128(self, _: i128) -> Result<(), Refused> {
        Err(Refused)
    }
    fn serialize_u128(self, _: u128) -> Result<(), Refused> {
        Err(Refused)
    }
    fn is_human_readable(&self) -> bool {
        // As postcard: a value that encodes differently for humans must take its compact form.
        false
    }
}

impl ser::SerializeTuple for &mut Encoder<'_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut Encoder<'_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Encoder<'_> {
    type Ok = ();
    type Error = Refused;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Refused> {
        Ok(())
    }
}

struct Decoder<'a> {
    bytes: &'a [u8],
}

impl Decoder<'_> {
    #[inline]
    fn byte(&mut self) -> Result<u8, Refused> {
        let (&b, rest) = self.bytes.split_first().ok_or(Refused)?;
        self.bytes = rest;
        Ok(b)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Refused> {
        let (head, rest) = self.bytes.split_first_chunk::<N>().ok_or(Refused)?;
        self.bytes = rest;
        Ok(*head)
    }

    /// A canonical varint (its shortest form: no trailing zero group) of at most `max`.
    #[inline]
    fn varint(&mut self, max: u64) -> Result<u64, Refused> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            let group = u64::from(b & 0x7f);
            if i == 9 && group > 1 {
                return Err(Refused); // past 64 bits
            }
            v |= group << (7 * i);
            if b & 0x80 == 0 {
                if (i > 0 && b == 0) || v > max {
                    return Err(Refused);
                }
                return Ok(v);
            }
        }
        Err(Refused)
    }

    /// A zig-zag varint that fits `T`.
    #[inline]
    fn signed<T: TryFrom<i64>>(&mut self) -> Result<T, Refused> {
        T::try_from(unzig(self.varint(u64::MAX)?)).map_err(|_| Refused)
    }

    /// A varint that fits `T`.
    #[inline]
    fn unsigned<T: TryFrom<u64>>(&mut self) -> Result<T, Refused> {
        T::try_from(self.varint(u64::MAX)?).map_err(|_| Refused)
    }
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        match self.byte()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            _ => Err(Refused),
        }
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_i8(i8::from_le_bytes([self.byte()?]))
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_i16(self.signed()?)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_i32(self.signed()?)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_i64(self.signed()?)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_u8(self.byte()?)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_u16(self.unsigned()?)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_u32(self.unsigned()?)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_u64(self.unsigned()?)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_f32(f32::from_bits(u32::from_le_bytes(self.array()?)))
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_f64(f64::from_bits(u64::from_le_bytes(self.array()?)))
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        let len = usize::try_from(self.varint(4)?).map_err(|_| Refused)?;
        let (utf8, rest) = self.bytes.split_at_checked(len).ok_or(Refused)?;
        self.bytes = rest;
        let s = std::str::from_utf8(utf8).map_err(|_| Refused)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            // Exactly one char: postcard takes the first of several, so refuse those.
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(Refused),
        }
    }
    fn deserialize_str<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_string<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        match self.byte()? {
            0 => visitor.visit_none(),
            1 => visitor.visit_some(self),
            _ => Err(Refused),
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Refused> {
        visitor.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Refused> {
        visitor.visit_newtype_struct(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Refused> {
        visitor.visit_seq(Fields {
            de: self,
            left: len,
        })
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Refused> {
        visitor.visit_seq(Fields {
            de: self,
            left: len,
        })
    }
    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        visitor.visit_seq(Fields {
            de: self,
            left: fields.len(),
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Refused> {
        Err(Refused)
    }
    fn is_human_readable(&self) -> bool {
        false
    }
}

/// The fields of a tuple or struct, one after another as postcard lays them out.
struct Fields<'a, 'de> {
    de: &'a mut Decoder<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Fields<'_, 'de> {
    type Error = Refused;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Refused> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};
    use serde::{Deserialize, Serialize};
    use std::fmt::Debug;

    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    struct Point {
        x: i32,
        y: Option<u16>,
        tag: char,
        unit: (),
    }

    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    struct Meters(f64);

    /// Encodes `v` both ways, checks the bytes agree, and decodes them back both ways.
    fn same<T>(v: T)
    where
        T: Serialize + serde::de::DeserializeOwned + PartialEq + Debug,
    {
        let reference = postcard::to_allocvec(&v).unwrap();
        let mut buf = [0u8; 64];
        let n = encode(&v, &mut buf).unwrap_or_else(|| panic!("{v:?} refused"));
        assert_eq!(&buf[..n], reference.as_slice(), "{v:?}");
        assert_eq!(decode::<T>(&reference), Some(v));
    }

    #[test]
    fn agrees_with_postcard_at_the_edges() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            same(v);
        }
        for v in [0i64, -1, 1, 63, -64, 64, -65, i64::MIN, i64::MAX] {
            same(v);
        }
        for v in [0u16, 127, 128, u16::MAX] {
            same(v);
        }
        for v in [i16::MIN, -1, 0, i16::MAX] {
            same(v);
        }
        for v in [0u32, u32::MAX] {
            same(v);
        }
        for v in [i32::MIN, i32::MAX] {
            same(v);
        }
        for v in [0u8, 255] {
            same(v);
        }
        for v in [i8::MIN, -1, i8::MAX] {
            same(v);
        }
        same(true);
        same(false);
        same(1.5f32);
        same(-0.0f64);
        same(f64::INFINITY);
        for c in ['a', 'é', '€', '𝄞'] {
            same(c);
        }
        same(());
        same(Some(5u8));
        same(None::<u64>);
        same(Some(Some(-3i16)));
        same((1u8, 2u64, -3i32, true));
        same(Point {
            x: -7,
            y: Some(9),
            tag: 'q',
            unit: (),
        });
        same(Meters(2.5));
        same([1u32, 2, 3]);
    }

    #[test]
    fn refuses_what_it_does_not_cover() {
        let mut buf = [0u8; 64];
        assert_eq!(encode(&"s", &mut buf), None);
        assert_eq!(encode(&vec![1u8], &mut buf), None);
        assert_eq!(encode(&1u128, &mut buf), None);
        assert_eq!(encode(&Some("s"), &mut buf), None);
        assert_eq!(encode(&Ok::<u8, u8>(1), &mut buf), None);
        // Over the buffer: refused, not truncated.
        assert_eq!(encode(&u64::MAX, &mut buf[..9]), None);
        assert_eq!(decode::<String>(&[1, b'a']), None);
        assert_eq!(decode::<Vec<u8>>(&[0]), None);
        assert_eq!(decode::<Result<u8, u8>>(&[0, 1]), None);
    }

    #[test]
    fn refuses_non_canonical_and_bad_bytes() {
        // Postcard accepts some of these; what matters is that we never accept them with a
        // different meaning, so we refuse and let postcard decide.
        assert_eq!(decode::<u64>(&[0x80, 0x00]), None); // zero in two bytes
        assert_eq!(decode::<u16>(&[0xff, 0xff, 0x04]), None); // over u16::MAX
        assert_eq!(decode::<u64>(&[0xff; 10]), None); // over 64 bits
        assert_eq!(decode::<u64>(&[0x80; 11]), None); // never ends
        assert_eq!(decode::<bool>(&[2]), None);
        assert_eq!(decode::<Option<u8>>(&[2, 0]), None);
        assert_eq!(decode::<char>(&[2, b'a', b'b']), None); // two chars
        assert_eq!(decode::<char>(&[1, 0xff]), None); // not UTF-8
        assert_eq!(decode::<char>(&[5, 0, 0, 0, 0, 0]), None);
        assert_eq!(decode::<f64>(&[0; 7]), None);
        assert_eq!(decode::<(u8, u8)>(&[1]), None);
        assert_eq!(decode::<i32>(&[0xff, 0xff, 0xff, 0xff, 0x1f]), None); // over i32
    }

    #[test]
    fn anything_it_accepts_postcard_reads_the_same() {
        // Every 1- and 2-byte input, and 3-byte ones with a continuation in front.
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for a in 0..=255u8 {
            inputs.push(vec![a]);
            for b in 0..=255u8 {
                inputs.push(vec![a, b]);
                if a >= 0x80 && b >= 0x80 {
                    inputs.push(vec![a, b, 0x03]);
                }
            }
        }
        for bytes in &inputs {
            check::<u16>(bytes);
            check::<i16>(bytes);
            check::<u64>(bytes);
            check::<i64>(bytes);
            check::<bool>(bytes);
            check::<char>(bytes);
            check::<Option<u8>>(bytes);
            check::<(u8, i8)>(bytes);
        }
    }

    fn check<T>(bytes: &[u8])
    where
        T: serde::de::DeserializeOwned + PartialEq + Debug,
    {
        if let Some(v) = decode::<T>(bytes) {
            assert_eq!(postcard::from_bytes::<T>(bytes).ok(), Some(v), "{bytes:?}");
        }
    }
}
