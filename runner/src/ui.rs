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

/// Asks a yes/no question on the terminal. Without a terminal there is nobody to
/// ask, so this is an error that says to pass `--yes`.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    use anyhow::Context;
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "not asking without a terminal: pass --yes to replace the files (they are backed up first)"
        );
    }
    print!("{question}");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}
