//! Scalar analysis and the four scalar writers of the libyaml-derived emitter in
//! go-yaml v2, which decide how every string in kustomize's output is spelled.

/// The scalar styles the emitter can choose between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// What the emitter learns about a string before choosing a style.
#[derive(Debug, Default)]
pub struct Analysis {
    pub multiline: bool,
    pub block_plain_allowed: bool,
    pub single_quoted_allowed: bool,
    pub block_allowed: bool,
}

pub fn is_break(character: char) -> bool {
    matches!(character, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank_or_end(character: Option<char>) -> bool {
    matches!(character, None | Some(' ' | '\t' | '\0')) || character.is_some_and(is_break)
}

/// libyaml's notion of a printable character (note: nothing outside the BMP).
pub fn is_printable(character: char) -> bool {
    let code = u32::from(character);
    code == 0x0A
        || (0x20..=0x7E).contains(&code)
        || (0xA0..=0xD7FF).contains(&code)
        || ((0xE000..=0xFFFD).contains(&code) && code != 0xFEFF)
}

/// Port of `yaml_emitter_analyze_scalar` for block context (flow level 0).
pub fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let block_indicators = value.starts_with("---") || value.starts_with("...");
    if value.is_ascii() {
        analyze_chars(value.as_bytes(), block_indicators)
    } else {
        let chars: Vec<char> = value.chars().collect();
        analyze_chars(&chars, block_indicators)
    }
}

/// [`analyze`] over the characters of a non-empty value (ASCII bytes need no collecting).
fn analyze_chars<C: Copy + Into<char>>(chars: &[C], mut block_indicators: bool) -> Analysis {
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let (mut line_breaks, mut special_characters) = (false, false);
    let mut preceded_by_whitespace = true;
    for (index, &character) in chars.iter().enumerate() {
        let character: char = character.into();
        let followed_by_whitespace = matches!(
            chars.get(index + 1).map(|&next| next.into()),
            None | Some(' ' | '\t')
        );
        if index == 0 {
            match character {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    block_indicators = true;
                }
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else if (character == ':' && followed_by_whitespace)
            || (character == '#' && preceded_by_whitespace)
        {
            block_indicators = true;
        }
        if !is_printable(character) {
            special_characters = true;
        }
        if character == ' ' {
            leading_space |= index == 0;
            trailing_space |= index + 1 == chars.len();
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(character) {
            line_breaks = true;
            leading_break |= index == 0;
            trailing_break |= index + 1 == chars.len();
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank_or_end(Some(character));
    }
    let mut analysis = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        analysis.block_plain_allowed = false;
    }
    if trailing_space {
        analysis.block_allowed = false;
    }
    if break_space {
        analysis.block_plain_allowed = false;
        analysis.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        analysis.block_plain_allowed = false;
        analysis.single_quoted_allowed = false;
        analysis.block_allowed = false;
    }
    if line_breaks || block_indicators {
        analysis.block_plain_allowed = false;
    }
    analysis
}

/// Port of `yaml_emitter_select_scalar_style` for block context.
pub fn select_style(requested: Style, analysis: &Analysis, simple_key: bool) -> Style {
    let mut style = requested;
    if simple_key && analysis.multiline {
        style = Style::DoubleQuoted;
    }
    if style == Style::Plain && !analysis.block_plain_allowed {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!analysis.block_allowed || simple_key) {
        style = Style::DoubleQuoted;
    }
    style
}
