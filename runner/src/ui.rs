//! Terminal styles. `anstream` drops the colours when the output is not a terminal
//! or `NO_COLOR` is set, and translates them on old Windows consoles.

use anstyle::{AnsiColor, Style};

pub const PASS: Style = AnsiColor::Green.on_default();
pub const FAIL: Style = AnsiColor::Red.on_default();
pub const WARN: Style = AnsiColor::Yellow.on_default();
pub const TITLE: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const PATH: Style = AnsiColor::Cyan.on_default();

/// `text` in `style`, for use inside `anstream::println!`.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}
