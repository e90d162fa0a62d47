//! IAM OpenID Connect providers over the query protocol: the eight calls
//! Terraform's `aws_iam_openid_connect_provider` makes, and the two tag
//! reads and writes, with IAM's shapes. latchkey's additions (key source,
//! CA bundle, extra claims) are on /v1 only.

use super::action::{actions, Ctx, Handler, Outcome};
use super::render;
use super::xml::Xml;
use crate::iam::oidc_providers::{self as oidc, CreateProvider};

pub const ACTIONS: &[(&str, Handler)] = actions![
    "CreateOpenIDConnectProvider" => create,
    "GetOpenIDConnectProvider" => get,
    "ListOpenIDConnectProviders" => list,
    "DeleteOpenIDConnectProvider" => delete,
    "AddClientIDToOpenIDConnectProvider" => add_client_id,
    "RemoveClientIDFromOpenIDConnectProvider" => remove_client_id,
    "UpdateOpenIDConnectProviderThumbprint" => update_thumbprint,
    "TagOpenIDConnectProvider" => tag,
    "UntagOpenIDConnectProvider" => untag,
    "ListOpenIDConnectProviderTags" => list_tags,
];

const ARN: &str = "OpenIDConnectProviderArn";

async fn create(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let req = CreateProvider {
        url: p.required("Url")?.to_string(),
        client_ids: p.list("ClientIDList"),
        thumbprints: p.list("ThumbprintList"),
        tags: p.tags("Tags")?,
        ..Default::default()
    };
    let (provider, tags) = oidc::create(c.state, c.caller, req).await?;
    let mut x = Xml::new();
    x.text(ARN, provider.arn());
    render::tags(&mut x, &tags);
    Ok(Some(x))
}

async fn get(c: &Ctx<'_>) -> Outcome {
    let (p, tags) = oidc::get(c.state, c.caller, c.params.required(ARN)?).await?;
    let mut x = Xml::new();
    x.text("Url", &p.url)
        .strings("ClientIDList", p.client_id_list())
        .strings("ThumbprintList", p.thumbprint_list())
        .text("CreateDate", &p.created_at);
    render::tags(&mut x, &tags);
    Ok(Some(x))
}

async fn list(c: &Ctx<'_>) -> Outcome {
    let providers = oidc::list(c.state, c.caller).await?;
    let mut x = Xml::new();
    x.members("OpenIDConnectProviderList", &providers, |m, p| {
        m.text("Arn", p.arn());
    });
    Ok(Some(x))
}

async fn delete(c: &Ctx<'_>) -> Outcome {
    oidc::delete(c.state, c.caller, c.params.required(ARN)?).await?;
    Ok(None)
}

async fn add_client_id(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    oidc::add_client_id(c.state, c.caller, p.required(ARN)?, p.required("ClientID")?).await?;
    Ok(None)
}

async fn remove_client_id(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    oidc::remove_client_id(c.state, c.caller, p.required(ARN)?, p.required("ClientID")?).await?;
    Ok(None)
}

async fn update_thumbprint(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    let list = p.list("ThumbprintList");
    oidc::update_thumbprints(c.state, c.caller, p.required(ARN)?, &list).await?;
    Ok(None)
}

async fn tag(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    oidc::tag(c.state, c.caller, p.required(ARN)?, &p.tags("Tags")?).await?;
    Ok(None)
}

async fn untag(c: &Ctx<'_>) -> Outcome {
    let p = c.params;
    oidc::untag(c.state, c.caller, p.required(ARN)?, &p.list("TagKeys")).await?;
    Ok(None)
}

async fn list_tags(c: &Ctx<'_>) -> Outcome {
    let tags = oidc::list_tags(c.state, c.caller, c.params.required(ARN)?).await?;
    let mut x = Xml::new();
    render::tags(&mut x, &tags);
    x.text("IsTruncated", false);
    Ok(Some(x))
}
