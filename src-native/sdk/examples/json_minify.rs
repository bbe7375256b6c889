//! json_minify — a Rust program for kvmfilter: POST a JSON document, get it back without insignificant white space
//! (application/json), or 400 with X-Failed saying what is wrong and at which byte. The same binary outside the
//! sandbox reads stdin and writes stdout, so it can be tested and timed natively.
//!
//! Build: rustc --edition 2021 -O -C target-feature=+crt-static -o json_minify sdk/examples/json_minify.rs
#[path = "../rust/kvm.rs"]
mod kvm;

use std::io::{Read, Write};
use std::os::raw::c_char;

/// Nesting deeper than this is refused: the parser recurses once per level.
const MAX_DEPTH: usize = 512;

struct Parser<'a> {
    input: &'a [u8],
    at: usize,
    out: Vec<u8>,
}

impl<'a> Parser<'a> {
    fn error<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("invalid JSON at byte {}: {}", self.at, what))
    }

    fn skip_space(&mut self) {
        while self.at < self.input.len() && matches!(self.input[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.at).copied()
    }

    fn value(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return self.error("nested deeper than 512 levels");
        }
        self.skip_space();
        match self.peek() {
            Some(b'{') => self.container(b'{', b'}', depth),
            Some(b'[') => self.container(b'[', b']', depth),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(c) if c == b'-' || c.is_ascii_digit() => self.number(),
            Some(_) => self.error("expected a value"),
            None => self.error("the document ends where a value was expected"),
        }
    }

    /// An object or an array: members separated by commas; an object's members are "key": value.
    fn container(&mut self, open: u8, close: u8, depth: usize) -> Result<(), String> {
        self.out.push(open);
        self.at += 1;
        self.skip_space();
        if self.peek() == Some(close) {
            self.out.push(close);
            self.at += 1;
            return Ok(());
        }
        loop {
            if open == b'{' {
                self.skip_space();
                if self.peek() != Some(b'"') {
                    return self.error("expected a string as the member's name");
                }
                self.string()?;
                self.skip_space();
                if self.peek() != Some(b':') {
                    return self.error("expected ':' after the member's name");
                }
                self.out.push(b':');
                self.at += 1;
            }
            self.value(depth + 1)?;
            self.skip_space();
            match self.peek() {
                Some(b',') => {
                    self.out.push(b',');
                    self.at += 1;
                }
                Some(c) if c == close => {
                    self.out.push(close);
                    self.at += 1;
                    return Ok(());
                }
                _ => return self.error(if open == b'{' { "expected ',' or '}'" } else { "expected ',' or ']'" }),
            }
        }
    }

    fn string(&mut self) -> Result<(), String> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.peek() {
                None => return self.error("the string does not end"),
                Some(b'"') => break,
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.at += 1,
                        Some(b'u') => {
                            let hex = self.input.get(self.at + 1..self.at + 5);
                            if !hex.map_or(false, |h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return self.error("\\u needs four hexadecimal digits");
                            }
                            self.at += 5;
                        }
                        _ => return self.error("unknown escape"),
                    }
                }
                Some(c) if c < 0x20 => return self.error("a control character inside a string"),
                Some(_) => self.at += 1,
            }
        }
        self.at += 1;
        if std::str::from_utf8(&self.input[start..self.at]).is_err() {
            self.at = start;
            return self.error("the string is not UTF-8");
        }
        self.out.extend_from_slice(&self.input[start..self.at]);
        Ok(())
    }

    fn number(&mut self) -> Result<(), String> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while p.peek().map_or(false, |c| c.is_ascii_digit()) {
                p.at += 1;
            }
            p.at > from
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        if self.peek() == Some(b'0') {
            self.at += 1;
        } else if !digits(self) {
            return self.error("expected a digit");
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !digits(self) {
                return self.error("expected a digit after '.'");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !digits(self) {
                return self.error("expected a digit in the exponent");
            }
        }
        self.out.extend_from_slice(&self.input[start..self.at]);
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), String> {
        if !self.input[self.at..].starts_with(word) {
            return self.error("expected true, false or null");
        }
        self.at += word.len();
        self.out.extend_from_slice(word);
        Ok(())
    }
}

/// The document without insignificant white space, or what is wrong with it.
fn minify(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut parser = Parser { input, at: 0, out: Vec::with_capacity(input.len()) };
    parser.value(0)?;
    parser.skip_space();
    if parser.at != input.len() {
        return parser.error("more after the document");
    }
    Ok(parser.out)
}

extern "C" fn on_post(_url: *const c_char, _arg: *const c_char, _ctype: *const c_char, data: *const u8, len: usize) {
    match minify(unsafe { kvm::bytes(data, len) }) {
        Ok(out) => kvm::respond(200, "application/json", &out),
        Err(why) => {
            kvm::append_header(&format!("X-Failed: {}", why));
            kvm::respond(400, "text/plain", why.as_bytes())
        }
    }
}

extern "C" fn on_get(_url: *const c_char, _arg: *const c_char) {
    kvm::respond(400, "text/plain", b"POST a JSON document")
}

fn main() {
    if !kvm::is_sandboxed() {
        let mut input = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut input) {
            eprintln!("json_minify: cannot read stdin: {}", e);
            std::process::exit(2);
        }
        match minify(&input) {
            Ok(out) => {
                std::io::stdout().write_all(&out).expect("stdout");
            }
            Err(why) => {
                eprintln!("json_minify: {}", why);
                std::process::exit(1);
            }
        }
        return;
    }
    kvm::set_post_handler(on_post);
    kvm::set_get_handler(on_get);
    kvm::wait_for_requests();
}
