//! The scanners' reports over the query protocol: the credential report
//! (its CSV base64-encoded in `Content`, as AWS sends it).

use base64::Engine as _;

use super::action::{actions, Ctx, Handler, Outcome};
use super::xml::Xml;
use crate::iam;
use crate::iam::credential_report::to_csv;

pub const ACTIONS: &[(&str, Handler)] = actions![
    "GenerateCredentialReport" => generate_credential_report,
    "GetCredentialReport" => get_credential_report,
];

async fn generate_credential_report(c: &Ctx<'_>) -> Outcome {
    let state = iam::credential_report::generate_credential_report(c.state, c.caller).await?;
    let mut x = Xml::new();
    x.text("State", state.wire_name())
        .text("Description", state.description());
    Ok(Some(x))
}

async fn get_credential_report(c: &Ctx<'_>) -> Outcome {
    let report = iam::credential_report::get_credential_report(c.state, c.caller).await?;
    let csv = to_csv(&report);
    let mut x = Xml::new();
    x.text(
        "Content",
        base64::engine::general_purpose::STANDARD.encode(csv.as_bytes()),
    )
    .text("ReportFormat", "text/csv")
    .text("GeneratedTime", &report.generated_time);
    Ok(Some(x))
}
