//! The lake's schema: the one place that names columns and their types.
//!
//! Step: shared by every pipeline step. Ingest builds rows from [`RECORD_FIELDS`], the lake writer
//! writes [`file_schema`], the restorer turns rows back into CloudTrail JSON using the same field
//! list, and the query session (later) reads the same names. Columns are CloudTrail's own field
//! names in lower case, the convention of Athena's CloudTrail table.
//!
//! This module does not parse or write anything; it only describes.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// How one CloudTrail field is stored.
#[derive(Debug)]
pub enum Kind {
    /// A JSON string, stored as a string column.
    Str,
    /// A JSON boolean, stored as a boolean column.
    Bool,
    /// An ISO-8601 time string, stored as a UTC timestamp (microseconds).
    Time,
    /// Any JSON value, stored as its minified JSON text.
    Json,
    /// A JSON object with known keys, stored as a struct column.
    Struct(&'static [Spec]),
    /// A JSON array of objects with known keys, stored as a list of structs.
    ListOfStruct(&'static [Spec]),
}

/// One CloudTrail field: its key in the JSON record, its column name, and how it is stored.
#[derive(Debug)]
pub struct Spec {
    /// The key exactly as CloudTrail writes it (case matters).
    pub json: &'static str,
    /// The column (or struct field) name: the key in lower case.
    pub column: &'static str,
    /// The storage kind.
    pub kind: Kind,
}

const fn s(json: &'static str, column: &'static str, kind: Kind) -> Spec {
    Spec { json, column, kind }
}

/// `userIdentity.sessionContext.attributes`.
pub const ATTRIBUTES_FIELDS: &[Spec] = &[
    s("creationDate", "creationdate", Kind::Str),
    s("mfaAuthenticated", "mfaauthenticated", Kind::Str),
];

/// `userIdentity.sessionContext.sessionIssuer`.
pub const SESSION_ISSUER_FIELDS: &[Spec] = &[
    s("type", "type", Kind::Str),
    s("principalId", "principalid", Kind::Str),
    s("arn", "arn", Kind::Str),
    s("accountId", "accountid", Kind::Str),
    s("userName", "username", Kind::Str),
];

/// `userIdentity.sessionContext`.
pub const SESSION_CONTEXT_FIELDS: &[Spec] = &[
    s("attributes", "attributes", Kind::Struct(ATTRIBUTES_FIELDS)),
    s(
        "sessionIssuer",
        "sessionissuer",
        Kind::Struct(SESSION_ISSUER_FIELDS),
    ),
    s("webIdFederationData", "webidfederationdata", Kind::Json),
    s("sourceIdentity", "sourceidentity", Kind::Str),
    s("ec2RoleDelivery", "ec2roledelivery", Kind::Str),
    s("assumedRoot", "assumedroot", Kind::Str),
];

/// `userIdentity`.
pub const USER_IDENTITY_FIELDS: &[Spec] = &[
    s("type", "type", Kind::Str),
    s("principalId", "principalid", Kind::Str),
    s("arn", "arn", Kind::Str),
    s("accountId", "accountid", Kind::Str),
    s("accessKeyId", "accesskeyid", Kind::Str),
    s("userName", "username", Kind::Str),
    s("invokedBy", "invokedby", Kind::Str),
    s("credentialId", "credentialid", Kind::Str),
    s("identityProvider", "identityprovider", Kind::Str),
    s(
        "sessionContext",
        "sessioncontext",
        Kind::Struct(SESSION_CONTEXT_FIELDS),
    ),
    s("onBehalfOf", "onbehalfof", Kind::Json),
    s("inScopeOf", "inscopeof", Kind::Json),
];

/// One element of `resources`.
pub const RESOURCE_FIELDS: &[Spec] = &[
    s("ARN", "arn", Kind::Str),
    s("accountId", "accountid", Kind::Str),
    s("type", "type", Kind::Str),
];

/// `tlsDetails`.
pub const TLS_FIELDS: &[Spec] = &[
    s("tlsVersion", "tlsversion", Kind::Str),
    s("cipherSuite", "ciphersuite", Kind::Str),
    s(
        "clientProvidedHostHeader",
        "clientprovidedhostheader",
        Kind::Str,
    ),
];

/// Every top-level CloudTrail field the lake stores in its own column, in column order.
/// Any other top-level key goes to [`EXTRA`], so nothing is lost.
pub const RECORD_FIELDS: &[Spec] = &[
    s("eventTime", EVENT_TIME, Kind::Time),
    s("eventVersion", "eventversion", Kind::Str),
    s("eventSource", EVENT_SOURCE, Kind::Str),
    s("eventName", EVENT_NAME, Kind::Str),
    s("awsRegion", AWS_REGION, Kind::Str),
    s("sourceIPAddress", "sourceipaddress", Kind::Str),
    s("userAgent", "useragent", Kind::Str),
    s("errorCode", "errorcode", Kind::Str),
    s("errorMessage", "errormessage", Kind::Str),
    s("requestID", REQUEST_ID, Kind::Str),
    s("eventID", EVENT_ID, Kind::Str),
    s("eventType", "eventtype", Kind::Str),
    s("apiVersion", "apiversion", Kind::Str),
    s("recipientAccountId", RECIPIENT_ACCOUNT_ID, Kind::Str),
    s("sharedEventID", SHARED_EVENT_ID, Kind::Str),
    s("vpcEndpointId", "vpcendpointid", Kind::Str),
    s("vpcEndpointAccountId", "vpcendpointaccountid", Kind::Str),
    s("eventCategory", "eventcategory", Kind::Str),
    s(
        "sessionCredentialFromConsole",
        "sessioncredentialfromconsole",
        Kind::Str,
    ),
    s("readOnly", "readonly", Kind::Bool),
    s("managementEvent", "managementevent", Kind::Bool),
    s(
        "userIdentity",
        USER_IDENTITY,
        Kind::Struct(USER_IDENTITY_FIELDS),
    ),
    s(
        "resources",
        "resources",
        Kind::ListOfStruct(RESOURCE_FIELDS),
    ),
    s("tlsDetails", "tlsdetails", Kind::Struct(TLS_FIELDS)),
    s("requestParameters", "requestparameters", Kind::Json),
    s("responseElements", "responseelements", Kind::Json),
    s("additionalEventData", "additionaleventdata", Kind::Json),
    s("serviceEventDetails", "serviceeventdetails", Kind::Json),
    s("addendum", "addendum", Kind::Json),
    s("edgeDeviceDetails", "edgedevicedetails", Kind::Json),
    s("insightDetails", "insightdetails", Kind::Json),
];

/// Column with the event time.
pub const EVENT_TIME: &str = "eventtime";
/// Column with the service that recorded the event (`iam.amazonaws.com`).
pub const EVENT_SOURCE: &str = "eventsource";
/// Column with the API called.
pub const EVENT_NAME: &str = "eventname";
/// Column with the event id, the de-duplication key.
pub const EVENT_ID: &str = "eventid";
/// Column with the request id.
pub const REQUEST_ID: &str = "requestid";
/// Column with the id shared by the copies of one event delivered to several accounts.
pub const SHARED_EVENT_ID: &str = "sharedeventid";
/// Column with the event's region.
pub const AWS_REGION: &str = "awsregion";
/// Column with the account that received the event.
pub const RECIPIENT_ACCOUNT_ID: &str = "recipientaccountid";
/// Column with the identity struct.
pub const USER_IDENTITY: &str = "useridentity";
/// Column holding, as a JSON object, whatever the typed columns could not hold: unknown keys at any
/// depth, explicit nulls, and values whose type or spelling differs from the usual. Merged over the
/// typed columns it gives back the original record.
pub const EXTRA: &str = "extra";
/// Column naming the object a row came from (`s3://bucket/key` or a file path).
pub const SOURCE_URI: &str = "source_uri";

/// Hive partition column: the event's account.
pub const PART_ACCOUNT: &str = "account";
/// Hive partition column: the event's region.
pub const PART_REGION: &str = "region";
/// Hive partition column: the UTC day of the event time, `YYYY-MM-DD`.
pub const PART_DAY: &str = "day";
/// The partition columns in directory order.
pub const PARTITION_COLUMNS: [&str; 3] = [PART_ACCOUNT, PART_REGION, PART_DAY];

/// Columns written with a Parquet bloom filter (as paths into nested columns): the ones that
/// detections and pivots test for equality (`eventname = 'StopLogging'`, an access key, an IP), so a
/// query skips every row group that cannot hold the value without decoding it.
pub const BLOOM_FILTER_COLUMNS: &[&[&str]] = &[
    &["eventsource"],
    &["eventname"],
    &["errorcode"],
    &["sourceipaddress"],
    &["useridentity", "accesskeyid"],
];

/// Columns of long, varied text, compressed with zstd in the lake: they hold most of its bytes.
/// Every other column (dictionary-coded names, ARNs, keys, times) is compressed with LZ4: a
/// Parquet reader creates a decompressor for every column chunk it opens, and a zstd one costs
/// more to create than such a chunk costs to decompress (a scan of `useridentity` opens 25).
pub const ZSTD_COLUMNS: &[&str] = &[
    "useragent",
    "errormessage",
    EVENT_ID,
    REQUEST_ID,
    SHARED_EVENT_ID,
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "serviceeventdetails",
    "addendum",
    "edgedevicedetails",
    "insightdetails",
    EXTRA,
];

/// The lake's top-level table directory.
pub const TABLE_DIR: &str = "cloudtrail";

/// The table of the latest verification's verdicts, `_trailscope/verification.parquet`.
pub const VERIFICATION_TABLE: &str = "verification";

/// Columns of the `verification` table: one row per digest, and one per log file and URI it was
/// ingested under, so `JOIN verification v ON v.source_uri = cloudtrail.source_uri` says whether
/// a row's evidence was verified.
pub const VERIFICATION_COLUMNS: &[&str] = &[
    "object_type",
    "uri",
    "source_uri",
    "status",
    "reason",
    "digest_uri",
    "chain",
    "digest_end_time",
    "verified_at",
];

static VERIFICATION_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(
        VERIFICATION_COLUMNS
            .iter()
            .map(|c| {
                let required = matches!(*c, "object_type" | "uri" | "status" | "verified_at");
                Field::new(*c, DataType::Utf8, !required)
            })
            .collect::<Vec<_>>(),
    ))
});

/// Schema of the `verification` table (all text: `object_type` is `digest` or `log`, `status`
/// is `valid`, `invalid`, `missing` or `unverified`).
pub fn verification_schema() -> SchemaRef {
    VERIFICATION_SCHEMA.clone()
}

/// Name of the table of each account's first and last event, in every session.
pub const SPANS_TABLE: &str = "account_spans";

/// The schema of the `account_spans` table: one row per account of the table (or of the
/// session's `--since`/`--until` window), with its first (`t0`) and last (`t1`) event time.
pub fn spans_schema() -> SchemaRef {
    let time = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new(PART_ACCOUNT, DataType::Utf8, false),
        Field::new("t0", time.clone(), true),
        Field::new("t1", time, true),
    ]))
}

/// Name of the table of credential chains in every session.
pub const CHAINS_TABLE: &str = "credential_chains";

/// The schema of the `credential_chains` table: one row per access key.
pub fn chains_schema() -> SchemaRef {
    let names = [
        "access_key",
        "issued_by",
        "issue_eventid",
        "issue_time",
        "issue_account",
        "issue_source_ip",
        "issue_user_agent",
        "source_identity",
        "session_arn",
        "parent_key",
        "origin_type",
        "origin",
        "origin_key",
    ];
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect();
    fields.push(Field::new("depth", DataType::Int64, false));
    fields.push(Field::new(
        "chain",
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        true,
    ));
    Arc::new(Schema::new(fields))
}

/// Arrow type of the event time column.
pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Arrow type of the `source_uri` column: dictionary-encoded, since every row of an object shares it.
pub fn source_uri_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// Arrow type for one spec kind.
pub fn data_type(kind: &Kind) -> DataType {
    match kind {
        Kind::Str | Kind::Json => DataType::Utf8,
        Kind::Bool => DataType::Boolean,
        Kind::Time => time_type(),
        Kind::Struct(fields) => DataType::Struct(struct_fields(fields)),
        Kind::ListOfStruct(fields) => DataType::List(Arc::new(Field::new(
            "item",
            DataType::Struct(struct_fields(fields)),
            true,
        ))),
    }
}

/// Arrow fields of a struct spec.
pub fn struct_fields(specs: &[Spec]) -> Fields {
    specs
        .iter()
        .map(|f| Field::new(f.column, data_type(&f.kind), true))
        .collect()
}

static FILE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields: Vec<Field> = RECORD_FIELDS
        .iter()
        .map(|f| Field::new(f.column, data_type(&f.kind), f.column != EVENT_TIME))
        .collect();
    fields.push(Field::new(EXTRA, DataType::Utf8, true));
    fields.push(Field::new(SOURCE_URI, source_uri_type(), false));
    Arc::new(Schema::new(fields))
});

/// Schema of every Parquet file in the lake (partition columns live in the directory names).
pub fn file_schema() -> SchemaRef {
    FILE_SCHEMA.clone()
}

/// Schema of the whole table as a query engine sees it: the file columns plus the partitions.
pub fn table_schema() -> SchemaRef {
    let mut fields: Vec<Field> = file_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for p in PARTITION_COLUMNS {
        fields.push(Field::new(p, DataType::Utf8, false));
    }
    Arc::new(Schema::new(fields))
}

/// Every column and struct field as a path (`eventname`, `useridentity.sessioncontext.sessionissuer.arn`),
/// partition columns included: for completion and for "did you mean".
pub fn column_paths() -> Vec<String> {
    fn walk(prefix: &str, specs: &[Spec], out: &mut Vec<String>) {
        for f in specs {
            let path = if prefix.is_empty() {
                f.column.to_owned()
            } else {
                format!("{prefix}.{}", f.column)
            };
            if let Kind::Struct(inner) = &f.kind {
                walk(&path, inner, out);
            }
            out.push(path);
        }
    }
    let mut out = Vec::new();
    walk("", RECORD_FIELDS, &mut out);
    out.extend([EXTRA, SOURCE_URI].map(str::to_owned));
    out.extend(PARTITION_COLUMNS.map(str::to_owned));
    out
}

/// What a column means, in one line, for `\d`.
pub fn column_about(column: &str) -> &'static str {
    match column {
        EVENT_TIME => "when the request was made (UTC)",
        "eventversion" => "version of the CloudTrail record format",
        "eventsource" => {
            "the service that received the request (iam.amazonaws.com, lambda.amazonaws.com, …)"
        }
        "eventname" => "the API action (Lambda names carry a version suffix: see lambda_api())",
        AWS_REGION => "the region the request went to",
        "sourceipaddress" => {
            "the caller's IP address, or the AWS service that called on its behalf"
        }
        "useragent" => "the caller's tool (aws-cli, console, SDK, a service)",
        "errorcode" => "the error the call failed with (AccessDenied, …); NULL when it succeeded",
        "errormessage" => "the error's text",
        REQUEST_ID => "the service's id for the request",
        EVENT_ID => "CloudTrail's id for this event (unique; duplicates are removed at ingest)",
        "eventtype" => "AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, AwsCloudTrailInsight, …",
        "apiversion" => "the API version, for services that report one",
        RECIPIENT_ACCOUNT_ID => "the account that received the event",
        SHARED_EVENT_ID => "links the copies of one event delivered to several accounts",
        "vpcendpointid" => "the VPC endpoint the request came through",
        "vpcendpointaccountid" => "the account that owns that VPC endpoint",
        "eventcategory" => "Management, Data, NetworkActivity or Insight",
        "sessioncredentialfromconsole" => {
            "'true' when the session's credentials came from the console"
        }
        "readonly" => "whether the call only reads (Athena's 'true'/'false' strings also work)",
        "managementevent" => "whether it is a management (control-plane) event",
        USER_IDENTITY => {
            "who made the call: type, arn, accesskeyid, sessioncontext.sessionissuer, … (see actor())"
        }
        "resources" => "the resources the event names: list of {arn, accountid, type}",
        "tlsdetails" => "TLS version, cipher suite and host header of the request",
        "requestparameters" => {
            "the request's parameters, JSON text (json_get_str, ->>, json_extract_scalar)"
        }
        "responseelements" => {
            "the response, JSON text (credentials of AssumeRole, created resources, …)"
        }
        "additionaleventdata" => {
            "extra service data, JSON text (MFAUsed for sign-ins, bytes for S3, …)"
        }
        "serviceeventdetails" => "details of a service event, JSON text",
        "addendum" => "late changes CloudTrail made to the event, JSON text",
        "edgedevicedetails" => "details for edge devices, JSON text",
        "insightdetails" => "CloudTrail Insights details, JSON text",
        EXTRA => "what the typed columns could not hold exactly (unknown fields, nulls), JSON text",
        SOURCE_URI => "the object the event came from (s3://bucket/key or a file): the evidence",
        PART_ACCOUNT => "partition: the event's account (filters on it skip whole directories)",
        PART_REGION => "partition: the event's region",
        PART_DAY => "partition: the UTC day of eventtime, YYYY-MM-DD",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lower_case_cloudtrail_names() {
        fn check(specs: &[Spec]) {
            for f in specs {
                assert_eq!(f.column, f.json.to_ascii_lowercase(), "{}", f.json);
                match &f.kind {
                    Kind::Struct(inner) | Kind::ListOfStruct(inner) => check(inner),
                    _ => {}
                }
            }
        }
        check(RECORD_FIELDS);
    }

    #[test]
    fn every_table_column_is_documented() {
        for f in table_schema().fields() {
            assert!(
                !column_about(f.name()).is_empty(),
                "{} has no description",
                f.name()
            );
        }
        assert!(
            column_paths().contains(&"useridentity.sessioncontext.sessionissuer.arn".to_owned())
        );
    }

    #[test]
    fn file_schema_has_every_field_once() {
        let schema = file_schema();
        assert_eq!(schema.fields().len(), RECORD_FIELDS.len() + 2);
        let mut names: Vec<_> = schema.fields().iter().map(|f| f.name().clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), schema.fields().len());
        assert_eq!(table_schema().fields().len(), schema.fields().len() + 3);
    }
}
