//! Athena's spellings, so published Athena CloudTrail queries run here with at most their table
//! name changed.
//!
//! Athena's CloudTrail table keeps `readonly` as a string, so its queries say
//! `readonly = 'false'`; [`AthenaBooleans`] rewrites such comparisons against our typed boolean
//! columns before DataFusion's type checks refuse them.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::BinaryExpr;
use datafusion::logical_expr::expr_fn::SimpleScalarUDF;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;
use serde_json::Value;

use super::string_fn;

/// Athena's functions.
pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        string_fn("json_extract_scalar", 2, |a| {
            json_path(a[0], a[1]).and_then(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
        }),
        string_fn("json_extract", 2, |a| {
            json_path(a[0], a[1]).map(|v| v.to_string())
        }),
        timestamp_udf("from_iso8601_timestamp", 1, |args, rows| {
            let t = timestamps(&args[0], rows)?;
            Ok(Arc::new(t) as ArrayRef)
        }),
        int_udf("date_diff", 3, |args, rows| {
            let units = strings(&args[0], rows)?;
            let (a, b) = (timestamps(&args[1], rows)?, timestamps(&args[2], rows)?);
            let out: Int64Array = (0..rows)
                .map(|i| {
                    let unit = units.get(i).cloned().flatten()?;
                    (a.is_valid(i) && b.is_valid(i)).then(|| diff(&unit, a.value(i), b.value(i)))?
                })
                .collect();
            Ok(Arc::new(out) as ArrayRef)
        }),
        timestamp_udf("date_add", 3, |args, rows| {
            let units = strings(&args[0], rows)?;
            let n = cast_array(&args[1], rows, &DataType::Int64)?;
            let n = n.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            let t = timestamps(&args[2], rows)?;
            let out: TimestampMicrosecondArray = (0..rows)
                .map(|i| {
                    let unit = units.get(i).cloned().flatten()?;
                    (n.is_valid(i) && t.is_valid(i)).then(|| add(&unit, n.value(i), t.value(i)))?
                })
                .collect();
            Ok(Arc::new(out.with_timezone("UTC")) as ArrayRef)
        }),
    ]
}

/// The value at a JSONPath (`$`, `.name`, `["name"]`, `[0]`) of JSON text.
pub fn json_path(json: &str, path: &str) -> Option<Value> {
    let mut v: Value = serde_json::from_str(json).ok()?;
    let mut p = path.trim().strip_prefix('$')?;
    while !p.is_empty() {
        if let Some(rest) = p.strip_prefix('.') {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            v = v.get_mut(&rest[..end])?.take();
            p = &rest[end..];
        } else if let Some(rest) = p.strip_prefix('[') {
            let end = rest.find(']')?;
            let key = rest[..end].trim();
            v = match key
                .strip_prefix(['"', '\''])
                .and_then(|k| k.strip_suffix(['"', '\'']))
            {
                Some(name) => v.get_mut(name)?.take(),
                None => v.get_mut(key.parse::<usize>().ok()?)?.take(),
            };
            p = &rest[end + 1..];
        } else {
            return None;
        }
    }
    Some(v)
}

const MICROS: &[(&str, i64)] = &[
    ("millisecond", 1_000),
    ("second", 1_000_000),
    ("minute", 60_000_000),
    ("hour", 3_600_000_000),
    ("day", 86_400_000_000),
    ("week", 604_800_000_000),
];

fn unit_micros(unit: &str) -> Option<i64> {
    let u = unit.trim().to_ascii_lowercase();
    let u = u.trim_end_matches('s');
    MICROS.iter().find(|(n, _)| *n == u).map(|(_, m)| *m)
}

fn months_per(unit: &str) -> Option<i64> {
    match unit.trim().to_ascii_lowercase().trim_end_matches('s') {
        "month" => Some(1),
        "quarter" => Some(3),
        "year" => Some(12),
        _ => None,
    }
}

/// Whole `unit`s from `a` to `b` (microseconds), truncated toward zero, as Athena counts them.
fn diff(unit: &str, a: i64, b: i64) -> Option<i64> {
    if let Some(m) = unit_micros(unit) {
        return Some((b - a) / m);
    }
    let per = months_per(unit)?;
    let (da, db) = (
        DateTime::from_timestamp_micros(a)?,
        DateTime::from_timestamp_micros(b)?,
    );
    let mut months =
        (db.year() as i64 - da.year() as i64) * 12 + db.month() as i64 - da.month() as i64;
    // A month counts only once its day and time are reached.
    let shifted = |m: i64| add("month", m, a);
    if months > 0 && shifted(months)? > b {
        months -= 1;
    } else if months < 0 && shifted(months)? < b {
        months += 1;
    }
    Some(months / per)
}

/// `t` plus `n` `unit`s.
fn add(unit: &str, n: i64, t: i64) -> Option<i64> {
    if let Some(m) = unit_micros(unit) {
        return t.checked_add(n.checked_mul(m)?);
    }
    let months = n.checked_mul(months_per(unit)?)?;
    let d: DateTime<Utc> = DateTime::from_timestamp_micros(t)?;
    let moved = if months >= 0 {
        d.checked_add_months(Months::new(u32::try_from(months).ok()?))?
    } else {
        d.checked_sub_months(Months::new(u32::try_from(-months).ok()?))?
    };
    Some(moved.timestamp_micros())
}

fn cast_array(v: &ColumnarValue, rows: usize, to: &DataType) -> Result<ArrayRef> {
    let array = v.to_array(rows)?;
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    Ok(cast_with_options(&array, to, &options)?)
}

/// Any time argument (text in ISO-8601 or a timestamp of any unit) as UTC microseconds; text
/// that is not a time becomes NULL.
fn timestamps(v: &ColumnarValue, rows: usize) -> Result<TimestampMicrosecondArray> {
    let array = v.to_array(rows)?;
    let array = if matches!(
        array.data_type(),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
    ) {
        let text = cast_with_options(&array, &DataType::Utf8, &CastOptions::default())?;
        let text = text.as_string::<i32>();
        let parsed: TimestampMicrosecondArray = (0..text.len())
            .map(|i| {
                text.is_valid(i)
                    .then(|| parse_time(text.value(i)))
                    .flatten()
            })
            .collect();
        Arc::new(parsed) as ArrayRef
    } else {
        array
    };
    let to = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    Ok(cast_with_options(&array, &to, &options)?
        .as_primitive::<TimestampMicrosecondType>()
        .clone())
}

/// ISO-8601 with or without an offset (a missing one means UTC), `T` or space between.
fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some((t, _)) = crate::time::parse_time(s) {
        return Some(t);
    }
    let with_t = s.replacen(' ', "T", 1);
    if let Some((t, _)) = crate::time::parse_time(&with_t) {
        return Some(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&with_t, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

fn strings(v: &ColumnarValue, rows: usize) -> Result<Vec<Option<String>>> {
    let array = cast_array(v, rows, &DataType::Utf8)?;
    let s = array.as_string::<i32>();
    Ok((0..s.len())
        .map(|i| s.is_valid(i).then(|| s.value(i).to_owned()))
        .collect())
}

type Body = dyn Fn(&[ColumnarValue], usize) -> Result<ArrayRef> + Send + Sync;

fn udf(name: &str, arity: usize, returns: DataType, body: Arc<Body>) -> ScalarUDF {
    let signature = Signature::any(arity, Volatility::Immutable);
    let fun = Arc::new(move |args: &[ColumnarValue]| -> Result<ColumnarValue> {
        let rows = args.iter().find_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            ColumnarValue::Scalar(_) => None,
        });
        let out = body(args, rows.unwrap_or(1))?;
        match rows {
            Some(_) => Ok(ColumnarValue::Array(out)),
            None => Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)),
        }
    });
    ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        name, signature, returns, fun,
    ))
}

fn timestamp_udf(
    name: &str,
    arity: usize,
    body: impl Fn(&[ColumnarValue], usize) -> Result<ArrayRef> + Send + Sync + 'static,
) -> ScalarUDF {
    udf(
        name,
        arity,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Arc::new(body),
    )
}

fn int_udf(
    name: &str,
    arity: usize,
    body: impl Fn(&[ColumnarValue], usize) -> Result<ArrayRef> + Send + Sync + 'static,
) -> ScalarUDF {
    udf(name, arity, DataType::Int64, Arc::new(body))
}

/// Rewrites `boolean_column = 'true'` (and `<>`, either side, any case) to a boolean literal,
/// as Athena's string-typed CloudTrail columns allow. Runs before type coercion.
#[derive(Debug, Default)]
pub struct AthenaBooleans;

impl AnalyzerRule for AthenaBooleans {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let inputs = node.inputs();
            if inputs.is_empty() {
                return Ok(Transformed::no(node));
            }
            let mut schema = DFSchema::empty();
            for i in inputs {
                schema.merge(i.schema());
            }
            node.map_expressions(|e| e.transform_up(|e| rewrite(e, &schema)))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "athena_boolean_literals"
    }
}

fn rewrite(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &e else {
        return Ok(Transformed::no(e));
    };
    if !matches!(op, Operator::Eq | Operator::NotEq) {
        return Ok(Transformed::no(e));
    }
    let text_bool = |x: &Expr| match x {
        Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)), _) => {
            match s.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }
        }
        _ => None,
    };
    let is_bool = |x: &Expr| matches!(x.get_type(schema), Ok(DataType::Boolean));
    let lit = |b: bool| Box::new(Expr::Literal(ScalarValue::Boolean(Some(b)), None));
    if let (true, Some(b)) = (is_bool(left), text_bool(right)) {
        return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
            left.clone(),
            *op,
            lit(b),
        ))));
    }
    if let (Some(b), true) = (text_bool(left), is_bool(right)) {
        return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
            lit(b),
            *op,
            right.clone(),
        ))));
    }
    Ok(Transformed::no(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        let j = r#"{"a":{"b":[10,{"c":"x"}]},"k.y":true,"n":null}"#;
        assert_eq!(json_path(j, "$.a.b[0]"), Some(Value::from(10)));
        assert_eq!(json_path(j, "$.a.b[1].c"), Some(Value::from("x")));
        assert_eq!(json_path(j, "$[\"k.y\"]"), Some(Value::from(true)));
        assert_eq!(json_path(j, "$.a.missing"), None);
        assert_eq!(json_path(j, "$.n"), Some(Value::Null));
        assert_eq!(json_path("not json", "$.a"), None);
        assert_eq!(json_path(j, "a.b"), None);
        assert_eq!(json_path(j, "$").map(|v| v.is_object()), Some(true));
    }

    #[test]
    fn date_arithmetic_as_athena_counts() {
        let t = |s: &str| parse_time(s).unwrap();
        assert_eq!(
            diff("day", t("2024-03-01T00:00:00Z"), t("2024-03-05T12:00:00Z")),
            Some(4)
        );
        assert_eq!(
            diff("hour", t("2024-03-05T12:00:00Z"), t("2024-03-05T10:30:00Z")),
            Some(-1)
        );
        // As Joda (Athena) counts: Jan 31 plus one month is Feb 29, so a whole month has passed.
        assert_eq!(
            diff(
                "month",
                t("2024-01-31T00:00:00Z"),
                t("2024-02-29T00:00:00Z")
            ),
            Some(1)
        );
        assert_eq!(
            diff(
                "month",
                t("2024-01-31T00:00:00Z"),
                t("2024-02-28T00:00:00Z")
            ),
            Some(0)
        );
        assert_eq!(
            diff(
                "month",
                t("2024-01-15T00:00:00Z"),
                t("2024-03-15T00:00:00Z")
            ),
            Some(2)
        );
        assert_eq!(
            diff("year", t("2023-06-01T00:00:00Z"), t("2024-05-31T00:00:00Z")),
            Some(0)
        );
        assert_eq!(diff("fortnight", 0, 1), None);
        assert_eq!(
            add("day", -1, t("2024-03-01T00:00:00Z")),
            Some(t("2024-02-29T00:00:00Z"))
        );
        assert_eq!(
            add("month", 1, t("2024-01-31T00:00:00Z")),
            Some(t("2024-02-29T00:00:00Z"))
        );
        assert_eq!(
            parse_time("2024-03-05 14:00:00"),
            Some(t("2024-03-05T14:00:00Z"))
        );
        assert_eq!(parse_time("2024-03-05"), Some(t("2024-03-05T00:00:00Z")));
        assert_eq!(
            parse_time("2024-03-05T15:00:00+01:00"),
            Some(t("2024-03-05T14:00:00Z"))
        );
        assert_eq!(parse_time("soon"), None);
    }
}
