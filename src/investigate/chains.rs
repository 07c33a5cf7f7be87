//! Investigate step: credential chains, from a temporary key back to the identity behind it.
//!
//! Input: a session over the lake. Output: the credential-issuing events (AssumeRole,
//! AssumeRoleWithSAML, AssumeRoleWithWebIdentity, GetSessionToken, GetFederationToken) keyed by
//! the access key each one issued, and for any key its [`Chain`]: the hops up to its origin (an
//! IAM user's long-term key, root, a SAML or web identity, a service), or the key whose issuing
//! event is not in the lake (a missing link, named and never guessed). Walks stop on cycles.
//!
//! This module does not print; [`super::render`] does. The SQL table `credential_chains` is built
//! from the same functions ([`table`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use anyhow::{Context, Result};
use datafusion::arrow::array::{
    Array, ArrayRef, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
};
use datafusion::prelude::SessionContext;

use crate::query::columns::text_column;
use crate::schema;
use serde::Serialize;

/// CloudTrail's `userIdentity.type`: who made a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityType {
    /// An IAM user.
    IamUser,
    /// A role session.
    AssumedRole,
    /// The account's root user.
    Root,
    /// A SAML federated user.
    SamlUser,
    /// A web identity (OIDC, Cognito, …).
    WebIdentityUser,
    /// An AWS service acting for itself.
    AwsService,
    /// A federated user (GetFederationToken).
    FederatedUser,
    /// Another AWS account.
    AwsAccount,
    /// An IAM Identity Center user.
    IdentityCenterUser,
    /// A type this version does not know, or none (empty).
    Other(String),
}

impl IdentityType {
    const NAMES: &[(&str, IdentityType)] = &[
        ("IAMUser", IdentityType::IamUser),
        ("AssumedRole", IdentityType::AssumedRole),
        ("Root", IdentityType::Root),
        ("SAMLUser", IdentityType::SamlUser),
        ("WebIdentityUser", IdentityType::WebIdentityUser),
        ("AWSService", IdentityType::AwsService),
        ("FederatedUser", IdentityType::FederatedUser),
        ("AWSAccount", IdentityType::AwsAccount),
        ("IdentityCenterUser", IdentityType::IdentityCenterUser),
    ];

    /// Reads CloudTrail's spelling.
    pub fn parse(s: &str) -> IdentityType {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == s)
            .map_or_else(|| IdentityType::Other(s.to_owned()), |(_, t)| t.clone())
    }

    /// CloudTrail's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            IdentityType::Other(s) => s,
            known => Self::NAMES
                .iter()
                .find(|(_, t)| t == known)
                .map_or("", |(n, _)| n),
        }
    }
}

impl Serialize for IdentityType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One credential-issuing event.
#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    /// The access key it issued.
    pub key: String,
    /// AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity, GetSessionToken or GetFederationToken.
    pub eventname: String,
    /// Its eventID.
    pub eventid: String,
    /// Its time (RFC 3339).
    pub time: String,
    /// The account it was recorded in.
    pub account: String,
    /// Its region.
    pub region: String,
    /// The caller's access key, when it used one.
    pub caller_key: Option<String>,
    /// The caller's identity type (IAMUser, AssumedRole, Root, SAMLUser, WebIdentityUser, AWSService, …).
    pub caller_type: IdentityType,
    /// The caller as a readable label.
    pub caller: String,
    /// The caller's ARN (or identity provider, or service).
    pub caller_arn: String,
    /// Source IP of the call.
    pub source_ip: String,
    /// User agent of the call.
    pub user_agent: String,
    /// sourceIdentity, when set.
    pub source_identity: Option<String>,
    /// The session the key belongs to (assumed-role or federated-user ARN).
    pub session_arn: Option<String>,
    /// The source object of the event.
    pub source_uri: String,
}

/// Where a chain starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Origin {
    /// An IAM user: its long-term key (AKIA…), or a session of it whose issuing is not logged
    /// (a console sign-in).
    User { arn: String, key: Option<String> },
    /// The account's root user.
    Root { account: String },
    /// A SAML federated identity (AssumeRoleWithSAML).
    Saml { who: String },
    /// A web identity (AssumeRoleWithWebIdentity: OIDC, Cognito, …).
    WebIdentity { who: String },
    /// An AWS service acting for itself (Lambda, EC2, …).
    Service { name: String },
    /// The key's issuing event is not in the lake: ingest the caller's account or period to go on.
    Missing { key: String },
    /// Following the chain came back to a key already on it.
    Cycle { key: String },
}

impl Origin {
    /// Short type name, as in the SQL table.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::User { .. } => "iam_user",
            Origin::Root { .. } => "root",
            Origin::Saml { .. } => "saml",
            Origin::WebIdentity { .. } => "web_identity",
            Origin::Service { .. } => "service",
            Origin::Missing { .. } => "missing",
            Origin::Cycle { .. } => "cycle",
        }
    }

    /// A readable label.
    pub fn label(&self) -> String {
        match self {
            Origin::User { arn, key } => format!(
                "{}{}",
                arn.rsplit(':').next().unwrap_or(arn),
                key.as_ref()
                    .map(|k| format!(" (key {k})"))
                    .unwrap_or_default()
            ),
            Origin::Root { account } => format!("root/{account}"),
            Origin::Saml { who } => format!("saml/{who}"),
            Origin::WebIdentity { who } => format!("web-identity/{who}"),
            Origin::Service { name } => format!("service/{name}"),
            Origin::Missing { key } => {
                format!("missing link: the event that issued {key} is not in the lake")
            }
            Origin::Cycle { key } => format!("cycle at {key}"),
        }
    }
}

/// A key's way back to its origin.
#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    /// The key traced.
    pub key: String,
    /// Issuing events from the key up: `hops[0]` issued `key`, the last one was called by the origin.
    pub hops: Vec<Issue>,
    /// Where it starts.
    pub origin: Origin,
}

/// Every issuing event of the lake, by the key it issued. When an event is recorded in two
/// accounts (a cross-account AssumeRole), the copy naming the caller's key wins.
pub async fn issues(ctx: &SessionContext) -> Result<BTreeMap<String, Issue>> {
    let sql = "SELECT json_get_str(responseelements, 'credentials', 'accessKeyId') AS key, eventname, eventid,
        CAST(eventtime AS VARCHAR) AS time, account, region, useridentity.accesskeyid AS caller_key,
        coalesce(useridentity.type, '') AS caller_type, coalesce(actor(useridentity), '') AS caller,
        coalesce(useridentity.arn, useridentity.identityprovider, useridentity.invokedby, useridentity.principalid, '') AS caller_arn,
        coalesce(sourceipaddress, '') AS source_ip, coalesce(useragent, '') AS user_agent,
        coalesce(json_get_str(requestparameters, 'sourceIdentity'), useridentity.sessioncontext.sourceidentity) AS source_identity,
        coalesce(json_get_str(responseelements, 'assumedRoleUser', 'arn'), json_get_str(responseelements, 'federatedUser', 'arn')) AS session_arn,
        coalesce(json_get_str(responseelements, 'subject'), useridentity.username, useridentity.principalid) AS who,
        CAST(source_uri AS VARCHAR) AS source_uri
      FROM cloudtrail
      WHERE eventsource = 'sts.amazonaws.com' AND errorcode IS NULL
        AND eventname IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetSessionToken', 'GetFederationToken')
        AND json_get_str(responseelements, 'credentials', 'accessKeyId') IS NOT NULL";
    let batches = ctx
        .sql(sql)
        .await
        .context("planning the credential-issuing events query")?
        .collect()
        .await
        .context("reading the credential-issuing events")?;
    let mut out: BTreeMap<String, Issue> = BTreeMap::new();
    for b in &batches {
        let col = |name: &str| -> Result<StringArray> {
            let i = b
                .schema()
                .index_of(name)
                .context("a column of the issues query")?;
            text_column(b, i)
        };
        let (
            key,
            name,
            id,
            time,
            account,
            region,
            caller_key,
            caller_type,
            caller,
            caller_arn,
            ip,
            ua,
            sid,
            session,
            who,
            uri,
        ) = (
            col("key")?,
            col("eventname")?,
            col("eventid")?,
            col("time")?,
            col("account")?,
            col("region")?,
            col("caller_key")?,
            col("caller_type")?,
            col("caller")?,
            col("caller_arn")?,
            col("source_ip")?,
            col("user_agent")?,
            col("source_identity")?,
            col("session_arn")?,
            col("who")?,
            col("source_uri")?,
        );
        let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_owned());
        for i in 0..b.num_rows() {
            let mut issue = Issue {
                key: key.value(i).to_owned(),
                eventname: name.value(i).to_owned(),
                eventid: id.value(i).to_owned(),
                time: time.value(i).replace(' ', "T"),
                account: account.value(i).to_owned(),
                region: region.value(i).to_owned(),
                caller_key: opt(&caller_key, i).filter(|k| !k.is_empty()),
                caller_type: IdentityType::parse(caller_type.value(i)),
                caller: caller.value(i).to_owned(),
                caller_arn: caller_arn.value(i).to_owned(),
                source_ip: ip.value(i).to_owned(),
                user_agent: ua.value(i).to_owned(),
                source_identity: opt(&sid, i),
                session_arn: opt(&session, i),
                source_uri: uri.value(i).to_owned(),
            };
            // SAML and web identity callers have no key or ARN of their own: name them.
            if issue.caller.is_empty() || issue.eventname.starts_with("AssumeRoleWith") {
                issue.caller = opt(&who, i).unwrap_or(issue.caller);
            }
            match out.get(&issue.key) {
                Some(existing) if existing.caller_key.is_some() || issue.caller_key.is_none() => {}
                _ => {
                    out.insert(issue.key.clone(), issue);
                }
            }
        }
    }
    Ok(out)
}

/// The chain of `key` up to its origin. `user_of` gives, for a key never issued in the lake, the
/// identity seen using it (type, ARN, account), so long-term keys and console sessions resolve.
pub fn trace_up(
    issues: &BTreeMap<String, Issue>,
    key: &str,
    user_of: &dyn Fn(&str) -> Option<KeyUser>,
) -> Chain {
    let mut hops: Vec<Issue> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut current = key.to_owned();
    let origin = loop {
        if !seen.insert(current.clone()) {
            break Origin::Cycle { key: current };
        }
        let Some(issue) = issues.get(&current) else {
            // Not issued in the lake: a long-term key, a console session, or a missing link.
            break match user_of(&current) {
                Some(u) if u.kind == IdentityType::IamUser => Origin::User {
                    arn: u.arn,
                    key: Some(current),
                },
                Some(u) if u.kind == IdentityType::Root => Origin::Root { account: u.account },
                _ if current.starts_with("AKIA") => Origin::User {
                    arn: String::new(),
                    key: Some(current),
                },
                _ => Origin::Missing { key: current },
            };
        };
        hops.push(issue.clone());
        match issue.eventname.as_str() {
            "AssumeRoleWithSAML" => {
                break Origin::Saml {
                    who: issue.caller.clone(),
                };
            }
            "AssumeRoleWithWebIdentity" => {
                break Origin::WebIdentity {
                    who: issue.caller.clone(),
                };
            }
            _ => {}
        }
        match (&issue.caller_type, &issue.caller_key) {
            (IdentityType::AwsService, _) => {
                break Origin::Service {
                    name: issue.caller_arn.clone(),
                };
            }
            (IdentityType::Root, None) => {
                break Origin::Root {
                    account: issue.account.clone(),
                };
            }
            (IdentityType::IamUser, None) => {
                break Origin::User {
                    arn: issue.caller_arn.clone(),
                    key: None,
                };
            }
            (_, Some(k)) => current = k.clone(),
            (_, None) => {
                break Origin::Missing {
                    key: format!("(the caller {} used no key in this record)", issue.caller),
                };
            }
        }
    };
    Chain {
        key: key.to_owned(),
        hops,
        origin,
    }
}

/// Every key issued, directly or through other keys, by `key`: (depth, issue), depth 1 first.
pub fn descendants(issues: &BTreeMap<String, Issue>, key: &str) -> Vec<(usize, Issue)> {
    let mut children: BTreeMap<&str, Vec<&Issue>> = BTreeMap::new();
    for i in issues.values() {
        if let Some(k) = &i.caller_key {
            children.entry(k.as_str()).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::from([key.to_owned()]);
    let mut stack: Vec<(usize, &str)> = vec![(0, key)];
    while let Some((depth, k)) = stack.pop() {
        let mut kids = children.get(k).cloned().unwrap_or_default();
        kids.sort_by(|a, b| b.time.cmp(&a.time));
        for c in kids {
            if seen.insert(c.key.clone()) {
                out.push((depth + 1, c.clone()));
                stack.push((depth + 1, c.key.as_str()));
            }
        }
    }
    out
}

/// The identity seen using an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUser {
    /// `useridentity.type`.
    pub kind: IdentityType,
    /// `useridentity.arn`.
    pub arn: String,
    /// `useridentity.accountid`.
    pub account: String,
}

/// Every access key used in the lake, with the identity seen using it.
pub async fn key_users(ctx: &SessionContext) -> Result<BTreeMap<String, KeyUser>> {
    let sql = "SELECT useridentity.accesskeyid AS key, min(coalesce(useridentity.type, '')) AS t,
        min(coalesce(useridentity.arn, '')) AS arn, min(coalesce(useridentity.accountid, account)) AS acct
      FROM cloudtrail WHERE useridentity.accesskeyid IS NOT NULL AND useridentity.accesskeyid <> ''
      GROUP BY useridentity.accesskeyid";
    let batches = ctx
        .sql(sql)
        .await?
        .collect()
        .await
        .context("reading the access keys of the lake")?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let c = |i: usize| text_column(b, i);
        let (k, t, a, acct) = (c(0)?, c(1)?, c(2)?, c(3)?);
        for i in 0..b.num_rows() {
            out.insert(
                k.value(i).to_owned(),
                KeyUser {
                    kind: IdentityType::parse(t.value(i)),
                    arn: a.value(i).to_owned(),
                    account: acct.value(i).to_owned(),
                },
            );
        }
    }
    Ok(out)
}

/// The rows of the `credential_chains` table: every key used or issued in the lake, its issuing
/// event (when it has one) and its origin.
pub async fn table(ctx: &SessionContext) -> Result<RecordBatch> {
    let issues = issues(ctx).await?;
    let users = key_users(ctx).await?;
    let mut keys: BTreeSet<&str> = issues.keys().map(String::as_str).collect();
    keys.extend(users.keys().map(String::as_str));
    let lookup = |k: &str| users.get(k).cloned();
    let mut cols: Vec<StringBuilder> = (0..13).map(|_| StringBuilder::new()).collect();
    let mut depth = Vec::new();
    let mut chain = ListBuilder::new(StringBuilder::new());
    for k in keys {
        let c = trace_up(&issues, k, &lookup);
        let first = c.hops.first();
        let origin_key = match &c.origin {
            Origin::User { key, .. } => key.clone(),
            Origin::Missing { key } | Origin::Cycle { key }
                if key.starts_with("AS") || key.starts_with("AK") =>
            {
                Some(key.clone())
            }
            _ => None,
        };
        let values = [
            Some(k.to_owned()),
            first.map(|i| i.eventname.clone()),
            first.map(|i| i.eventid.clone()),
            first.map(|i| i.time.clone()),
            first.map(|i| i.account.clone()),
            first.map(|i| i.source_ip.clone()),
            first.map(|i| i.user_agent.clone()),
            first.and_then(|i| i.source_identity.clone()),
            first
                .and_then(|i| i.session_arn.clone())
                .or_else(|| users.get(k).map(|u| u.arn.clone())),
            first.and_then(|i| i.caller_key.clone()),
            Some(c.origin.kind().to_owned()),
            Some(c.origin.label()),
            origin_key,
        ];
        for (b, v) in cols.iter_mut().zip(values) {
            b.append_option(v);
        }
        depth.push(c.hops.len() as i64);
        let mut path: Vec<String> = c
            .hops
            .iter()
            .rev()
            .filter_map(|h| h.caller_key.clone())
            .collect();
        path.push(k.to_owned());
        chain.append_value(path.into_iter().map(Some));
    }
    let mut arrays: Vec<ArrayRef> = cols
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    arrays.push(Arc::new(Int64Array::from(depth)));
    arrays.push(Arc::new(chain.finish()));
    Ok(RecordBatch::try_new(schema::chains_schema(), arrays)?)
}

/// The `credential_chains` table: computed from the lake when a query reads it.
#[derive(Debug)]
pub struct ChainsTable;

/// The name of the table in every session.
pub const TABLE: &str = schema::CHAINS_TABLE;

/// Adds the `credential_chains` table to a session (every session has it: see
/// `cmd::args::open_session`).
pub fn register(ctx: &SessionContext) -> Result<()> {
    ctx.register_table(TABLE, Arc::new(ChainsTable))
        .context("registering the credential_chains table")?;
    // A cluster cannot run this provider's code: the chains are computed here (their queries
    // run on the cluster) the first time a statement reads the table.
    crate::query::session::register_client_table(
        ctx,
        TABLE,
        Arc::new(|ctx: SessionContext| Box::pin(async move { table(&ctx).await })),
    );
    Ok(())
}

#[async_trait::async_trait]
impl datafusion::catalog::TableProvider for ChainsTable {
    fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        schema::chains_schema()
    }

    fn table_type(&self) -> datafusion::logical_expr::TableType {
        datafusion::logical_expr::TableType::View
    }

    async fn scan(
        &self,
        state: &dyn datafusion::catalog::Session,
        projection: Option<&Vec<usize>>,
        filters: &[datafusion::prelude::Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
        let ctx = crate::query::session::context_of(state, TABLE)?;
        let batch = table(&ctx)
            .await
            .map_err(|e| datafusion::error::DataFusionError::Execution(format!("{e:#}")))?;
        let mem =
            datafusion::datasource::MemTable::try_new(schema::chains_schema(), vec![vec![batch]])?;
        mem.scan(state, projection, filters, limit).await
    }
}
