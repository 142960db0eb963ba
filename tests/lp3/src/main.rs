//! ifx-lp3-parse: reads line protocol on stdin and prints how InfluxDB 3's parser (the
//! `influxdb-line-protocol` crate) reads it, one JSON object per input line, in input order:
//!
//!   {"line":1,"measurement":"m","tags":[["k","v"]],
//!    "fields":[["f","float","3ff8000000000000","1.5"],["i","integer","-3"],
//!              ["u","unsigned","18446744073709551615"],["b","boolean",true],["s","string","x"]],
//!    "timestamp":"5"}                          (timestamp null when the line has none)
//!   {"line":2,"error":"<the parser's message>"}
//!   {"line":3,"ignored":true}                 (a blank or comment line: the server skips it)
//!
//! Lines are split exactly as the server splits them (`split_lines`: a line feed inside a quoted
//! string belongs to the line). Numbers are printed as strings so that no JSON reader rounds
//! them: integers in decimal, floats as their IEEE-754 bit pattern (16 hex digits) followed by
//! Rust's shortest round-trip text for people. A final line feed ends the last line; it does not
//! start an empty one. Input that is not UTF-8 is refused as a whole (exit status 2).
//!
//! With `--framed`, stdin is a sequence of records, each `<byte count>\n<bytes>`, and each record
//! is read as a whole write body that should hold one line: one JSON object per record, which is
//! the line's description, or an error when the record is not UTF-8 or splits into several lines
//! (so a raw line feed in a name cannot shift the answers of the records after it).
//! Used by tests/integration/test_lp3_diff.c.

use influxdb_line_protocol::{parse_lines, split_lines, FieldValue};
use std::fmt::Write as _;
use std::io::{self, Read, Write};

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn describe(n: usize, line: &str, out: &mut String) {
    let _ = write!(out, "{{\"line\":{n},");
    let parsed = match parse_lines(line).next() {
        None => {
            out.push_str("\"ignored\":true}");
            return;
        }
        Some(Err(e)) => {
            out.push_str("\"error\":");
            json_string(out, &e.to_string());
            out.push('}');
            return;
        }
        Some(Ok(p)) => p,
    };
    out.push_str("\"measurement\":");
    json_string(out, &parsed.series.measurement);
    out.push_str(",\"tags\":[");
    for (i, (k, v)) in parsed.series.tag_set.iter().flatten().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        json_string(out, k);
        out.push(',');
        json_string(out, v);
        out.push(']');
    }
    out.push_str("],\"fields\":[");
    for (i, (k, v)) in parsed.field_set.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        json_string(out, k);
        match v {
            FieldValue::F64(f) => {
                let _ = write!(out, ",\"float\",\"{:016x}\",\"{:?}\"", f.to_bits(), f);
            }
            FieldValue::I64(x) => {
                let _ = write!(out, ",\"integer\",\"{x}\"");
            }
            FieldValue::U64(x) => {
                let _ = write!(out, ",\"unsigned\",\"{x}\"");
            }
            FieldValue::Boolean(b) => {
                let _ = write!(out, ",\"boolean\",{b}");
            }
            FieldValue::String(s) => {
                out.push_str(",\"string\",");
                json_string(out, s);
            }
        }
        out.push(']');
    }
    out.push_str("],\"timestamp\":");
    match parsed.timestamp {
        Some(t) => {
            let _ = write!(out, "\"{t}\"");
        }
        None => out.push_str("null"),
    }
    out.push('}');
}

fn fail(msg: &str) -> ! {
    eprintln!("ifx-lp3-parse: {msg}");
    std::process::exit(2);
}

/// Splits `<count>\n<bytes>` records.
fn records(mut raw: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !raw.is_empty() {
        let nl = raw
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or_else(|| fail("a record has no length line"));
        let n: usize = std::str::from_utf8(&raw[..nl])
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| fail("a record length is not a number"));
        let rest = &raw[nl + 1..];
        if rest.len() < n {
            fail("a record is shorter than its length");
        }
        out.push(&rest[..n]);
        raw = &rest[n..];
    }
    out
}

fn main() {
    let framed = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--framed") => true,
        Some(other) => fail(&format!(
            "unknown argument {other} (usage: ifx-lp3-parse [--framed])"
        )),
    };
    let mut raw = Vec::new();
    if let Err(e) = io::stdin().read_to_end(&mut raw) {
        fail(&format!("cannot read stdin: {e}"));
    }
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    let mut out = String::new();
    if framed {
        for (i, rec) in records(&raw).into_iter().enumerate() {
            out.clear();
            match std::str::from_utf8(rec) {
                Err(e) => {
                    let _ = write!(
                        out,
                        "{{\"line\":{},\"error\":\"not UTF-8 (byte {})\"}}",
                        i + 1,
                        e.valid_up_to()
                    );
                }
                Ok(text) => {
                    let lines: Vec<&str> = split_lines(text).collect();
                    if lines.len() == 1 {
                        describe(i + 1, lines[0], &mut out);
                    } else {
                        let _ = write!(
                            out,
                            "{{\"line\":{},\"error\":\"the record splits into {} lines\"}}",
                            i + 1,
                            lines.len()
                        );
                    }
                }
            }
            out.push('\n');
            if w.write_all(out.as_bytes()).is_err() {
                std::process::exit(2);
            }
        }
    } else {
        let input = match std::str::from_utf8(&raw) {
            Ok(s) => s,
            Err(e) => {
                println!(
                    "{{\"line\":0,\"error\":\"input is not UTF-8 (byte {})\"}}",
                    e.valid_up_to()
                );
                std::process::exit(2);
            }
        };
        let body = input.strip_suffix('\n').unwrap_or(input);
        if !input.is_empty() {
            for (i, line) in split_lines(body).enumerate() {
                out.clear();
                describe(i + 1, line, &mut out);
                out.push('\n');
                if w.write_all(out.as_bytes()).is_err() {
                    std::process::exit(2);
                }
            }
        }
    }
    if w.flush().is_err() {
        std::process::exit(2);
    }
}
