//! SQL functions responders need, registered on every query session.
//!
//! - Athena's spellings, so that published Athena CloudTrail queries run with at most their table
//!   name changed ([`athena`]): `json_extract_scalar`, `json_extract`, `from_iso8601_timestamp`,
//!   `date_diff`, `date_add`, and `readonly = 'false'` against the typed boolean columns.
//! - AWS helpers ([`aws`]): ARN parts, `actor`, `lambda_api`, `lambda_function`, `ip_in_cidr`, `is_private_ip`.
//!
//! The JSON functions of `datafusion-functions-json` are registered by the session. This module
//! only defines functions; it runs no queries.

pub mod athena;
pub mod aws;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::cast::as_string_array;
use datafusion::error::Result;
use datafusion::logical_expr::expr_fn::SimpleScalarUDF;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Signature, Volatility};
use datafusion::prelude::SessionContext;

/// One function as `\df` lists it.
pub struct Doc {
    /// Name.
    pub name: &'static str,
    /// Arguments and result, for display.
    pub signature: &'static str,
    /// What it does, in one line.
    pub about: &'static str,
}

/// Every function trailscope adds, with its one-line documentation.
pub const DOCS: &[Doc] = &[
    Doc {
        name: "json_extract_scalar",
        signature: "(json, path) -> string",
        about: "Athena: the scalar at a JSONPath ($.a.b, $.a[0]) of JSON text, as text",
    },
    Doc {
        name: "json_extract",
        signature: "(json, path) -> string",
        about: "Athena: the JSON value at a JSONPath of JSON text, as JSON text",
    },
    Doc {
        name: "from_iso8601_timestamp",
        signature: "(text | timestamp) -> timestamp",
        about: "Athena: an ISO-8601 time (or an already typed time) as a UTC timestamp",
    },
    Doc {
        name: "date_diff",
        signature: "(unit, t1, t2) -> bigint",
        about: "Athena: whole units (second … year) from t1 to t2",
    },
    Doc {
        name: "date_add",
        signature: "(unit, n, t) -> timestamp",
        about: "Athena: t plus n units (second … year)",
    },
    Doc {
        name: "arn_account",
        signature: "(arn) -> string",
        about: "the account id of an ARN (empty for S3 and other account-less ARNs)",
    },
    Doc {
        name: "arn_service",
        signature: "(arn) -> string",
        about: "the service of an ARN (iam, sts, lambda, s3, …)",
    },
    Doc {
        name: "arn_resource",
        signature: "(arn) -> string",
        about: "the resource part of an ARN (user/alice, function:f, bucket/key)",
    },
    Doc {
        name: "actor",
        signature: "(useridentity) -> string",
        about: "one stable label for whoever acted: user, role/session, root, service",
    },
    Doc {
        name: "principal",
        signature: "(useridentity) -> string",
        about: "the identity baselines are kept for: like actor, but automation sessions of a role collapse to role/<role> (SSO and e-mail-named sessions stay apart)",
    },
    Doc {
        name: "lambda_api",
        signature: "(eventname) -> string",
        about: "a Lambda eventName without its API version suffix (UpdateFunctionCode20150331v2 -> UpdateFunctionCode)",
    },
    Doc {
        name: "lambda_function",
        signature: "(name or arn) -> string",
        about: "a Lambda function's bare name from a name, a partial or full ARN, with or without a version or alias",
    },
    Doc {
        name: "ip_in_cidr",
        signature: "(ip, cidr) -> boolean",
        about: "whether an IPv4 or IPv6 address lies in a CIDR block (NULL for bad input)",
    },
    Doc {
        name: "is_private_ip",
        signature: "(ip) -> boolean",
        about: "whether an address is private, loopback, link-local or shared (RFC 1918, 4193, 6598)",
    },
];

/// Registers every function. (The session installs [`athena::AthenaBooleans`] itself, since it
/// must run before DataFusion's own analyzer rules.)
pub fn register(ctx: &SessionContext) {
    for udf in athena::udfs().into_iter().chain(aws::udfs()) {
        ctx.register_udf(udf);
    }
}

/// A function of string arguments returning a string, NULL in gives NULL out.
pub(crate) fn string_fn(
    name: &str,
    arity: usize,
    f: impl Fn(&[&str]) -> Option<String> + Send + Sync + 'static,
) -> ScalarUDF {
    typed_fn::<String, StringArray>(name, arity, DataType::Utf8, f)
}

/// A function of string arguments returning a boolean, NULL in gives NULL out.
pub(crate) fn bool_fn(
    name: &str,
    arity: usize,
    f: impl Fn(&[&str]) -> Option<bool> + Send + Sync + 'static,
) -> ScalarUDF {
    typed_fn::<bool, BooleanArray>(name, arity, DataType::Boolean, f)
}

/// A function of string arguments whose per-row results `T` collect into the array `A`.
fn typed_fn<T, A>(
    name: &str,
    arity: usize,
    returns: DataType,
    f: impl Fn(&[&str]) -> Option<T> + Send + Sync + 'static,
) -> ScalarUDF
where
    A: FromIterator<Option<T>> + Array + 'static,
{
    map_strings(name, arity, returns, move |rows, args| {
        let out: A = (0..rows)
            .map(|i| row(args, i).and_then(|a| f(&a)))
            .collect();
        Arc::new(out)
    })
}

fn row<'a>(
    args: &'a [&'a datafusion::arrow::array::StringArray],
    i: usize,
) -> Option<Vec<&'a str>> {
    args.iter()
        .map(|a| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn map_strings(
    name: &str,
    arity: usize,
    returns: DataType,
    f: impl Fn(usize, &[&StringArray]) -> ArrayRef + Send + Sync + 'static,
) -> ScalarUDF {
    let signature = Signature::exact(vec![DataType::Utf8; arity], Volatility::Immutable);
    let fun = Arc::new(move |args: &[ColumnarValue]| -> Result<ColumnarValue> {
        let scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let strings = arrays
            .iter()
            .map(|a| as_string_array(a))
            .collect::<Result<Vec<_>>>()?;
        let rows = arrays.first().map_or(1, |a| a.len());
        let out = f(rows, &strings);
        if scalar {
            return Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&out, 0)?,
            ));
        }
        Ok(ColumnarValue::Array(out))
    });
    ScalarUDF::from(SimpleScalarUDF::new_with_signature(
        name, signature, returns, fun,
    ))
}
