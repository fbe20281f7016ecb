//! Broker's configuration file (`broker.conf`, CAF's syntax) for the options brook has:
//!
//! ```text
//! # comments run to the end of the line
//! broker {
//!   disable-ssl = false
//!   peer-buffer-size = 4096
//!   ssl {
//!     cafile = "/etc/zeek/ca.pem"
//!   }
//! }
//! broker.metrics.port = 9911
//! ```
//!
//! Groups nest with braces, keys may also be dotted, and values are strings (in double
//! quotes, with `\"` and `\\` escapes), booleans, numbers or bare words. Every setting goes
//! through [`Config::set`], the same door as the by-name setters, the command line and the
//! environment. Unknown keys are returned as warnings; a value that does not parse, or a
//! file that is not in this syntax, is an error naming the key or the line.

use super::config::Config;
use crate::error::{Error, Result};

/// The most a configuration file may hold; it is read whole.
const MAX_FILE: u64 = 1 << 20;

impl Config {
    /// Applies the settings of the configuration file at `path`; the warnings about keys
    /// brook does not know (Broker has options brook does not).
    pub fn read_file(&mut self, path: impl AsRef<std::path::Path>) -> Result<Vec<String>> {
        let path = path.as_ref();
        let shown = path.display();
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::invalid(format!("cannot read {shown}: {e}")))?;
        if meta.len() > MAX_FILE {
            return Err(Error::invalid(format!("{shown} is over {MAX_FILE} bytes")));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::invalid(format!("cannot read {shown}: {e}")))?;
        self.apply_conf(&text)
            .map_err(|e| Error::invalid(format!("{shown}: {}", e.message)))
    }

    /// Applies settings in `broker.conf`'s syntax; the warnings about unknown keys.
    pub fn apply_conf(&mut self, text: &str) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        for (line, key, value) in parse(text)? {
            match self.set(&key, &value) {
                Ok(()) => {}
                Err(e) if e.message.starts_with("unknown option") => {
                    warnings.push(format!("line {line}: unknown option {key}, ignored"))
                }
                Err(e) => return Err(Error::invalid(format!("line {line}: {}", e.message))),
            }
        }
        Ok(warnings)
    }
}

/// The settings of a file as (line, dotted key, value).
fn parse(text: &str) -> Result<Vec<(usize, String, String)>> {
    let mut out = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let mut lex = Lexer::new(text);
    while let Some(tok) = lex.next()? {
        let line = lex.line;
        match tok {
            Token::Close => {
                if groups.pop().is_none() {
                    return Err(Error::invalid(format!("line {line}: '}}' without a group")));
                }
            }
            Token::Word(name) => {
                let key = groups
                    .iter()
                    .chain([&name])
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(".");
                match lex.next()? {
                    Some(Token::Open) => groups.push(name),
                    Some(Token::Equals) => match lex.next()? {
                        Some(Token::Word(v) | Token::Text(v)) => out.push((line, key, v)),
                        _ => {
                            return Err(Error::invalid(format!(
                                "line {line}: {key} has no value after '='"
                            )));
                        }
                    },
                    _ => {
                        return Err(Error::invalid(format!(
                            "line {line}: expected '=' or '{{' after {key}"
                        )));
                    }
                }
            }
            _ => return Err(Error::invalid(format!("line {line}: expected a key"))),
        }
    }
    if let Some(g) = groups.last() {
        return Err(Error::invalid(format!("group {g} is not closed")));
    }
    Ok(out)
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Equals,
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            chars: text.chars().peekable(),
            line: 1,
        }
    }

    fn next(&mut self) -> Result<Option<Token>> {
        loop {
            let Some(&c) = self.chars.peek() else {
                return Ok(None);
            };
            match c {
                '\n' => {
                    self.line += 1;
                    self.chars.next();
                }
                c if c.is_whitespace() || c == ',' => {
                    self.chars.next();
                }
                '#' => {
                    while self.chars.peek().is_some_and(|&c| c != '\n') {
                        self.chars.next();
                    }
                }
                '{' | '}' | '=' => {
                    self.chars.next();
                    return Ok(Some(match c {
                        '{' => Token::Open,
                        '}' => Token::Close,
                        _ => Token::Equals,
                    }));
                }
                '"' => {
                    self.chars.next();
                    return self.text().map(Some);
                }
                _ => {
                    let mut w = String::new();
                    while let Some(&c) = self.chars.peek() {
                        if c.is_whitespace() || "{}=#\",".contains(c) {
                            break;
                        }
                        w.push(c);
                        self.chars.next();
                    }
                    return Ok(Some(Token::Word(w)));
                }
            }
        }
    }

    fn text(&mut self) -> Result<Token> {
        let mut s = String::new();
        loop {
            match self.chars.next() {
                None | Some('\n') => {
                    let line = self.line;
                    return Err(Error::invalid(format!("line {line}: unterminated string")));
                }
                Some('"') => return Ok(Token::Text(s)),
                Some('\\') => match self.chars.next() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some(c @ ('"' | '\\')) => s.push(c),
                    _ => {
                        let line = self.line;
                        return Err(Error::invalid(format!(
                            "line {line}: bad escape in a string"
                        )));
                    }
                },
                Some(c) => s.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::OverflowPolicy;

    #[test]
    fn groups_dotted_keys_and_quoted_strings_set_the_options() {
        let mut c = Config::default();
        let warnings = c
            .apply_conf(
                r#"
                # Broker's syntax
                broker {
                  disable-ssl = false
                  peer-buffer-size = 64
                  peer-overflow-policy = "drop_oldest"
                  ssl {
                    cafile = "/etc/zeek/ca \"x\".pem"  # quotes inside
                    certificate = "/etc/zeek/cert.pem"
                  }
                  recording-directory = "/tmp/rec"
                }
                broker.metrics.port = 9911
                caf { scheduler { max-threads = 2 } }
                "#,
            )
            .unwrap();
        assert_eq!(c.peer_buffer_size, 64);
        assert_eq!(c.peer_overflow_policy, OverflowPolicy::DropOldest);
        assert_eq!(c.metrics_port, Some(9911));
        assert_eq!(
            c.ssl.cafile.as_deref(),
            Some(std::path::Path::new("/etc/zeek/ca \"x\".pem"))
        );
        assert!(c.ssl.authenticated());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("broker.recording-directory"));
        assert!(warnings[1].contains("caf.scheduler.max-threads"));
    }

    #[test]
    fn malformed_files_and_values_are_errors_naming_the_line_or_key() {
        let err = |text: &str| Config::default().apply_conf(text).unwrap_err().message;
        assert!(err("broker { peer-buffer-size = lots }").contains("broker.peer-buffer-size"));
        assert!(err("broker.disable-ssl = maybe").contains("broker.disable-ssl"));
        assert!(err("broker {\n disable-ssl = true\n").contains("not closed"));
        assert!(err("}").contains("without a group"));
        assert!(err("broker.ssl.cafile = \"open").contains("unterminated"));
        assert!(err("broker.ttl").contains("expected '='"));
        assert!(err("= 3").contains("expected a key"));
        assert!(err("a =").contains("no value"));
        let line = err("\n\nbroker.peer-buffer-size = 0x");
        assert!(line.contains("line 3"), "{line}");
    }

    #[test]
    fn a_file_is_read_and_a_missing_one_named() {
        let dir = std::env::temp_dir().join(format!("brook-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broker.conf");
        std::fs::write(&path, "broker { disable-forwarding = true }\n").unwrap();
        let mut c = Config::default();
        assert!(c.read_file(&path).unwrap().is_empty());
        assert!(c.disable_forwarding);
        let e = c.read_file(dir.join("nope.conf")).unwrap_err();
        assert!(e.message.contains("nope.conf"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
