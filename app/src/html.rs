//! Escaping text for HTML and SVG markup written by hand (the map, highlighted code).

/// `text` safe inside an element or a quoted attribute: `& < > " '` escaped, and the control
/// characters that XML forbids dropped (tab and newline are kept).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n'))
    {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(
            super::escape("<a href=\"x\">'&'</a>\u{1}\t\n"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\t\n"
        );
    }
}
