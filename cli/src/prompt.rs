//! Asking the user: a line, a secret without echo, a yes/no. Prompts go to
//! stderr so stdout stays the command's result (one JSON document with --json).

use std::io::{BufRead, IsTerminal, Write};
use zitadel_sdk::{Error, ErrorCode};

/// The value of a flag, or asked for on the terminal.
///
/// # Errors
/// `InvalidInput` when the flag is missing and stdin is not a terminal (a
/// script must pass the flag), or the answer is empty.
pub fn line(flag: Option<&str>, question: &str, flag_name: &str) -> Result<String, Error> {
    if let Some(v) = flag {
        return Ok(v.to_owned());
    }
    if !std::io::stdin().is_terminal() {
        return Err(needs_flag(flag_name));
    }
    eprint!("{question}: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|_| Error::host(ErrorCode::Cancelled, "no answer"))?;
    let answer = answer.trim().to_owned();
    if answer.is_empty() {
        return Err(Error::host(
            ErrorCode::InvalidInput,
            format!("{question}: no answer"),
        ));
    }
    Ok(answer)
}

/// A secret (password): the flag, or asked for without echo.
///
/// # Errors
/// As [`line`].
pub fn secret(flag: Option<&str>, question: &str, flag_name: &str) -> Result<String, Error> {
    if let Some(v) = flag {
        return Ok(v.to_owned());
    }
    if !std::io::stdin().is_terminal() {
        return Err(needs_flag(flag_name));
    }
    let v = rpassword::prompt_password(format!("{question}: "))
        .map_err(|_| Error::host(ErrorCode::Cancelled, "no answer"))?;
    if v.is_empty() {
        return Err(Error::host(
            ErrorCode::InvalidInput,
            format!("{question}: no answer"),
        ));
    }
    Ok(v)
}

/// A yes/no question; `flag` true answers yes without asking.
///
/// # Errors
/// As [`line`].
pub fn confirm(flag: bool, question: &str, flag_name: &str) -> Result<bool, Error> {
    if flag {
        return Ok(true);
    }
    let a = line(None, &format!("{question} [y/N]"), flag_name)?;
    Ok(matches!(a.to_ascii_lowercase().as_str(), "y" | "yes"))
}

fn needs_flag(flag: &str) -> Error {
    Error::host(
        ErrorCode::InvalidInput,
        format!("{flag} is required when stdin is not a terminal"),
    )
}
