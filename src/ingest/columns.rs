//! Column builders of the conversion step: one builder per column or struct field of the lake
//! schema, sized for an object's records, and the rows of one partition being built.
//!
//! Input: values that `convert` has judged to fit the typed columns. Output: Arrow arrays in the
//! lake's file schema. This module does not decide what fits; `convert` does.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::builder::NullBufferBuilder;
use arrow::array::{
    ArrayRef, BooleanBuilder, DictionaryArray, Int32Array, ListArray, RecordBatch, StringArray,
    StringBuilder, StructArray, TimestampMicrosecondBuilder,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{Field, Fields, Int32Type};
use serde_json::value::RawValue;

use super::convert::assign;
use super::jsontext::{self, Members};
use crate::time::parse_time;

use crate::lake::partition::{PartBatch, PartitionKey};
use crate::schema::{self, Kind, RECORD_FIELDS, Spec};

/// One column (or struct field) being built.
pub(super) enum Col {
    Str(StringBuilder),
    Json(StringBuilder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
    Struct {
        specs: &'static [Spec],
        children: Vec<Col>,
        nulls: NullBufferBuilder,
    },
    List {
        item: Box<Col>,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
    },
}

impl Col {
    /// A builder sized for `rows` values. Sizing matters: an object holds a few hundred records,
    /// and the builders' default capacity (1,024 values each, for ~50 builders) would allocate and
    /// then carry several times the data through the whole pipeline.
    pub(super) fn new(kind: &'static Kind, rows: usize) -> Col {
        let strings = || StringBuilder::with_capacity(rows, rows * 16);
        match kind {
            Kind::Str => Col::Str(strings()),
            Kind::Json => Col::Json(strings()),
            Kind::Bool => Col::Bool(BooleanBuilder::with_capacity(rows)),
            Kind::Time => {
                Col::Time(TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"))
            }
            Kind::Struct(specs) => Col::Struct {
                specs,
                children: specs.iter().map(|s| Col::new(&s.kind, rows)).collect(),
                nulls: NullBufferBuilder::new(rows),
            },
            Kind::ListOfStruct(specs) => Col::List {
                item: Box::new(Col::Struct {
                    specs,
                    children: specs.iter().map(|s| Col::new(&s.kind, rows)).collect(),
                    nulls: NullBufferBuilder::new(rows),
                }),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(rows),
            },
        }
    }

    fn append_null(&mut self) {
        match self {
            Col::Str(b) | Col::Json(b) => b.append_null(),
            Col::Bool(b) => b.append_null(),
            Col::Time(b) => b.append_null(),
            Col::Struct {
                children, nulls, ..
            } => {
                children.iter_mut().for_each(Col::append_null);
                nulls.append_null();
            }
            Col::List { offsets, nulls, .. } => {
                offsets.push(*offsets.last().unwrap_or(&0));
                nulls.append_null();
            }
        }
    }

    /// Appends the value of field `spec`; anything the column cannot hold exactly goes to the
    /// residual under the field's key. `spaced` says the record's text is not minified.
    pub(super) fn append<'a>(
        &mut self,
        spec: &'static Spec,
        value: Option<&'a RawValue>,
        residual: &mut Residual<'a>,
        spaced: bool,
    ) {
        let Some(v) = value else {
            self.append_null();
            return;
        };
        let kept = match self {
            Col::Str(b) => match jsontext::string(v) {
                Some(s) => {
                    b.append_value(s);
                    true
                }
                None => false,
            },
            Col::Json(b) => {
                if jsontext::is_null(v) {
                    false
                } else {
                    match spaced {
                        true => b.append_value(jsontext::minify(v.get())),
                        false => b.append_value(v.get()),
                    }
                    true
                }
            }
            Col::Bool(b) => match jsontext::boolean(v) {
                Some(x) => {
                    b.append_value(x);
                    true
                }
                None => false,
            },
            Col::Time(b) => match jsontext::string(v).and_then(|s| parse_time(&s)) {
                Some((t, canonical)) => {
                    b.append_value(t);
                    if !canonical {
                        // Keep the exact original spelling; the column keeps the instant.
                        residual.push(Cow::Borrowed(spec.json), Res::Raw(v));
                    }
                    return;
                }
                None => false,
            },
            Col::Struct {
                specs,
                children,
                nulls,
            } => match jsontext::members(v) {
                Some(Members(m)) => {
                    let mut inner = Residual::default();
                    let slots = assign(specs, m, &mut inner);
                    for ((s, c), slot) in specs.iter().zip(children.iter_mut()).zip(slots) {
                        c.append(s, slot, &mut inner, spaced);
                    }
                    nulls.append_non_null();
                    if !inner.is_empty() {
                        residual.push(Cow::Borrowed(spec.json), Res::Obj(inner));
                    }
                    return;
                }
                None => false,
            },
            Col::List {
                item,
                offsets,
                nulls,
            } => match serde_json::from_str::<Vec<&RawValue>>(v.get()) {
                Ok(elems) => {
                    let mut exact = true;
                    for e in &elems {
                        let mut inner = Residual::default();
                        item.append(spec, Some(e), &mut inner, spaced);
                        exact &= inner.is_empty();
                    }
                    let last = *offsets.last().unwrap_or(&0);
                    offsets.push(last + elems.len() as i32);
                    nulls.append_non_null();
                    if !exact {
                        // Element-level differences cannot be merged by key: keep the whole
                        // original array, which overrides the list on restore.
                        residual.push(Cow::Borrowed(spec.json), Res::Raw(v));
                    }
                    return;
                }
                Err(_) => false,
            },
        };
        if !kept {
            self.append_null();
            residual.push(Cow::Borrowed(spec.json), Res::Raw(v));
        }
    }

    fn finish(&mut self, spec_kind: &Kind) -> ArrayRef {
        match self {
            Col::Str(b) | Col::Json(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Time(b) => Arc::new(b.finish()),
            Col::Struct {
                specs,
                children,
                nulls,
            } => {
                let arrays = specs
                    .iter()
                    .zip(children.iter_mut())
                    .map(|(s, c)| c.finish(&s.kind))
                    .collect();
                Arc::new(StructArray::new(
                    schema::struct_fields(specs),
                    arrays,
                    nulls.finish(),
                ))
            }
            Col::List {
                item,
                offsets,
                nulls,
            } => {
                let Kind::ListOfStruct(specs) = spec_kind else {
                    unreachable!("a list column is only built for a list spec")
                };
                let values = item.finish(&Kind::Struct(specs));
                let field = Arc::new(Field::new(
                    "item",
                    arrow::datatypes::DataType::Struct(Fields::clone(&schema::struct_fields(
                        specs,
                    ))),
                    true,
                ));
                let offsets = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                Arc::new(ListArray::new(field, offsets, values, nulls.finish()))
            }
        }
    }
}

/// Builders for the rows of one partition.
pub(super) struct Rows {
    pub(super) cols: Vec<Col>,
    pub(super) extra: StringBuilder,
    pub(super) ids: Vec<u128>,
}

impl Rows {
    pub(super) fn new(rows: usize) -> Rows {
        Rows {
            cols: RECORD_FIELDS
                .iter()
                .map(|f| Col::new(&f.kind, rows))
                .collect(),
            extra: StringBuilder::with_capacity(rows, 0),
            ids: Vec::new(),
        }
    }

    pub(super) fn finish(mut self, key: PartitionKey, uri: &str) -> PartBatch {
        let n = self.ids.len();
        let mut arrays: Vec<ArrayRef> = RECORD_FIELDS
            .iter()
            .zip(self.cols.iter_mut())
            .map(|(f, c)| c.finish(&f.kind))
            .collect();
        arrays.push(Arc::new(self.extra.finish()));
        let keys = Int32Array::from(vec![0; n]);
        let values = Arc::new(StringArray::from(vec![uri]));
        // One value and in-range keys: construction cannot fail.
        let uris = DictionaryArray::<Int32Type>::try_new(keys, values)
            .expect("source_uri dictionary keys are all 0 and in range");
        arrays.push(Arc::new(uris));
        let batch = RecordBatch::try_new(schema::file_schema(), arrays)
            .expect("builders follow schema::file_schema");
        PartBatch {
            key,
            batch,
            ids: self.ids,
        }
    }
}

/// What the typed columns could not hold, as a JSON object to merge over them.
#[derive(Default)]
pub(super) struct Residual<'a> {
    items: Vec<(Cow<'a, str>, Res<'a>)>,
}

pub(super) enum Res<'a> {
    Raw(&'a RawValue),
    Obj(Residual<'a>),
}

impl<'a> Residual<'a> {
    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(super) fn push(&mut self, key: Cow<'a, str>, value: Res<'a>) {
        self.items.push((key, value));
    }

    pub(super) fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (k, v)) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Serialising a str cannot fail.
            out.push_str(&serde_json::to_string(k.as_ref()).unwrap_or_default());
            out.push(':');
            match v {
                Res::Raw(r) => out.push_str(&jsontext::minify(r.get())),
                Res::Obj(o) => o.write(out),
            }
        }
        out.push('}');
    }
}
