//! A small XML writer for the query protocol's replies: elements, escaped
//! text, `<member>` lists, and the success and error envelopes.

use std::fmt::Write as _;

pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The content of an element under construction.
#[derive(Debug, Default)]
pub struct Xml {
    out: String,
}

impl Xml {
    pub fn new() -> Self {
        Xml::default()
    }

    /// `<name>…</name>` with whatever `content` writes.
    pub fn node(&mut self, name: &str, content: impl FnOnce(&mut Xml)) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        content(self);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// `<name>text</name>`, escaped.
    pub fn text(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        let value = value.to_string();
        self.node(name, |x| escape_into(&mut x.out, &value))
    }

    /// `text` when there is a value; nothing otherwise (absent, not empty).
    pub fn opt(&mut self, name: &str, value: Option<impl std::fmt::Display>) -> &mut Self {
        if let Some(value) = value {
            self.text(name, value);
        }
        self
    }

    /// `<name><member>…</member>…</name>`: the query protocol's lists.
    pub fn members<I: IntoIterator>(
        &mut self,
        name: &str,
        items: I,
        mut each: impl FnMut(&mut Xml, I::Item),
    ) -> &mut Self {
        self.node(name, |x| {
            for item in items {
                x.node("member", |m| each(m, item));
            }
        })
    }

    /// A list of plain strings.
    pub fn strings<S: AsRef<str>>(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = S>,
    ) -> &mut Self {
        self.node(name, |x| {
            for item in items {
                x.out.push_str("<member>");
                escape_into(&mut x.out, item.as_ref());
                x.out.push_str("</member>");
            }
        })
    }

    /// A map: `<name><entry><key>…</key><value>…</value></entry>…</name>`.
    pub fn map<K: AsRef<str>, V: std::fmt::Display>(
        &mut self,
        name: &str,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> &mut Self {
        self.node(name, |x| {
            for (k, v) in entries {
                x.node("entry", |e| {
                    e.text("key", k.as_ref()).text("value", v);
                });
            }
        })
    }

    pub fn as_str(&self) -> &str {
        &self.out
    }
}

/// Escapes text and attribute content. A carriage return is written as a
/// reference because XML parsers would otherwise turn it into a newline.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// `<ActionResponse xmlns=…><ActionResult>…</ActionResult><ResponseMetadata>…`;
/// without a result (operations with no output) only the metadata.
pub fn success(namespace: &str, action: &str, request_id: &str, result: Option<&Xml>) -> String {
    let mut out = String::with_capacity(256 + result.map_or(0, |r| r.out.len()));
    let _ = write!(out, "<{action}Response xmlns=\"");
    escape_into(&mut out, namespace);
    out.push_str("\">");
    if let Some(result) = result {
        let _ = write!(out, "<{action}Result>{}</{action}Result>", result.out);
    }
    out.push_str("<ResponseMetadata><RequestId>");
    escape_into(&mut out, request_id);
    let _ = write!(out, "</RequestId></ResponseMetadata></{action}Response>");
    out
}

/// `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
/// `Type` is `Sender` for the client's mistakes and `Receiver` for ours.
pub fn error(namespace: &str, sender: bool, code: &str, message: &str, request_id: &str) -> String {
    let mut x = Xml::new();
    x.node("Error", |e| {
        e.text("Type", if sender { "Sender" } else { "Receiver" })
            .text("Code", code)
            .text("Message", message);
    })
    .text("RequestId", request_id);
    let mut out = String::from("<ErrorResponse xmlns=\"");
    escape_into(&mut out, namespace);
    let _ = write!(out, "\">{}</ErrorResponse>", x.out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_carriage_returns() {
        let mut x = Xml::new();
        x.text("A", "<b>&\"'\r\n");
        assert_eq!(x.as_str(), "<A>&lt;b&gt;&amp;&quot;&apos;&#13;\n</A>");
    }

    #[test]
    fn envelopes_nest_as_aws_does() {
        let mut x = Xml::new();
        x.strings("Names", ["a", "b"]).opt("Marker", None::<&str>);
        assert_eq!(
            success(IAM_NAMESPACE, "ListThings", "r1", Some(&x)),
            "<ListThingsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListThingsResult><Names><member>a</member><member>b</member></Names></ListThingsResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></ListThingsResponse>"
        );
        assert_eq!(
            success(STS_NAMESPACE, "DoIt", "r2", None),
            "<DoItResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DoItResponse>"
        );
        assert_eq!(
            error(IAM_NAMESPACE, true, "NoSuchEntity", "x < y", "r3"),
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>x &lt; y</Message></Error><RequestId>r3</RequestId></ErrorResponse>"
        );
    }
}
