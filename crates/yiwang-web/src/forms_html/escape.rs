//! The escaper of the form templates, and the type that carries their output into pages.

use askama::Template;
use std::fmt;

/// The form templates' escaper (`escape = "form-html"`, registered in the crate's
/// `askama.toml`): `& < > " '` become `&amp; &lt; &gt; &quot; &#39;`, as forms have always been
/// written (askama's own `html` escaper writes numeric entities such as `&#38;`; tests and
/// snapshots compare the bytes).
#[derive(Debug, Clone, Copy, Default)]
pub struct NamedEntities;

impl askama::filters::Escaper for NamedEntities {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '&' => dest.write_str("&amp;")?,
                '<' => dest.write_str("&lt;")?,
                '>' => dest.write_str("&gt;")?,
                '"' => dest.write_str("&quot;")?,
                '\'' => dest.write_str("&#39;")?,
                _ => dest.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// HTML written by a form template, with every outside text escaped by it. Pages print it as
/// `{{ form }}`: the type is marked [`askama::filters::HtmlSafe`], so askama does not escape
/// it a second time, and only this module's templates can make one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fragment(String);

impl Fragment {
    pub(super) fn render(t: &impl Template) -> Self {
        // The form templates print only strings and numbers, so rendering cannot fail; should
        // it ever, the page shows no form rather than a broken one.
        Self(t.render().unwrap_or_else(|e| {
            tracing::error!(error = %e, "form template failed to render");
            String::new()
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Fragment {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fragment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Safe by construction: a `Fragment` is only ever the output of a form template.
impl askama::filters::HtmlSafe for Fragment {}
