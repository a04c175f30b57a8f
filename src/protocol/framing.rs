//! Newline-delimited framing with a maximum line length.
//!
//! MCP's stdio transport is one JSON message per line. A peer can still send a line of any size,
//! so lines are capped: past the cap the rest of the line is discarded as it arrives (memory
//! stays bounded) and the reader gets [`Frame::TooLong`] with the line's first bytes. From that
//! head [`recover_id`] can usually read the message's `id`, so the one request that was too big
//! gets an error of its own instead of hanging forever.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::codec::Decoder;

use super::RequestId;

/// How much of an over-long line is kept to recover its id from.
const HEAD_BYTES: usize = 4096;

#[derive(Debug, PartialEq)]
pub enum Frame {
    /// One line, without its `\n` (or `\r\n`).
    Line(Bytes),
    /// A line longer than the limit: its first bytes and its full length.
    TooLong { head: Bytes, len: usize },
}

#[derive(Debug)]
pub struct LineCodec {
    max: usize,
    /// How far the current buffer has been searched for a newline already.
    scanned: usize,
    /// Set while the rest of an over-long line is being skipped.
    skipping: Option<(Bytes, usize)>,
}

impl LineCodec {
    pub fn new(max_line_bytes: usize) -> Self {
        LineCodec {
            max: max_line_bytes,
            scanned: 0,
            skipping: None,
        }
    }
}

fn trim_cr(mut line: BytesMut) -> Bytes {
    if line.last() == Some(&b'\r') {
        line.truncate(line.len() - 1);
    }
    line.freeze()
}

impl Decoder for LineCodec {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Self::Error> {
        if let Some((head, len)) = &mut self.skipping {
            return Ok(match memchr(buf) {
                Some(i) => {
                    *len += i;
                    let _ = buf.split_to(i + 1);
                    let (head, len) = self.skipping.take().expect("skipping");
                    Some(Frame::TooLong { head, len })
                }
                None => {
                    *len += buf.len();
                    let _ = head;
                    buf.clear();
                    None
                }
            });
        }
        let from = self.scanned;
        if let Some(i) = memchr(&buf[from..]).map(|i| i + from) {
            self.scanned = 0;
            if i > self.max {
                let head = Bytes::copy_from_slice(&buf[..HEAD_BYTES.min(i)]);
                let _ = buf.split_to(i + 1);
                return Ok(Some(Frame::TooLong { head, len: i }));
            }
            let mut line = buf.split_to(i + 1);
            line.truncate(i);
            return Ok(Some(Frame::Line(trim_cr(line))));
        }
        if buf.len() > self.max {
            let head = Bytes::copy_from_slice(&buf[..HEAD_BYTES.min(buf.len())]);
            self.skipping = Some((head, buf.len()));
            self.scanned = 0;
            buf.clear();
        } else {
            self.scanned = buf.len();
        }
        Ok(None)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Self::Error> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        if let Some((head, len)) = self.skipping.take() {
            return Ok(Some(Frame::TooLong { head, len }));
        }
        self.scanned = 0;
        if buf.is_empty() {
            return Ok(None);
        }
        // The last line of a stream need not end with a newline.
        Ok(Some(Frame::Line(trim_cr(buf.split()))))
    }
}

fn memchr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

/// Writes each line it is sent to `output`, newline added, flushing whenever the queue runs
/// dry (so bursts go out in few writes). When every sender is gone, or a write fails, the
/// output is shut down: that is how the peer learns we are done.
pub fn spawn_line_writer<W>(
    output: W,
    lines: mpsc::UnboundedReceiver<String>,
) -> tokio::task::JoinHandle<()>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    spawn_tapped_line_writer(output, lines, |_| {})
}

/// [`spawn_line_writer`] that shows each line to `tap` first (the gateway logs the client's
/// side of the wire with it).
pub fn spawn_tapped_line_writer<W>(
    output: W,
    mut lines: mpsc::UnboundedReceiver<String>,
    tap: fn(&str),
) -> tokio::task::JoinHandle<()>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut output = output;
        while let Some(mut line) = lines.recv().await {
            tap(&line);
            line.push('\n');
            if output.write_all(line.as_bytes()).await.is_err() {
                break;
            }
            if lines.is_empty() && output.flush().await.is_err() {
                break;
            }
        }
        let _ = output.shutdown().await;
    })
}

/// Reads the top-level `"id"` of a JSON object from its first bytes, when it is there.
///
/// Walks the object's top level only (nested `"id"` keys inside params do not count), which
/// is enough for every client that writes `jsonrpc`/`id`/`method` before `params`.
pub fn recover_id(head: &[u8]) -> Option<RequestId> {
    let text = String::from_utf8_lossy(head);
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut expect_key = false;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && bytes[i] == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let end = string_end(bytes, i)?;
                if expect_key && depth == 1 {
                    expect_key = false;
                    if &bytes[i..=end] == b"\"id\"" {
                        let rest = text[end + 1..].trim_start().strip_prefix(':')?;
                        let mut values =
                            serde_json::Deserializer::from_str(rest).into_iter::<RequestId>();
                        return values.next()?.ok();
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the quote that closes the string opening at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(codec: &mut LineCodec, chunks: &[&[u8]]) -> Vec<Frame> {
        let mut buf = BytesMut::new();
        let mut out = vec![];
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                out.push(f);
            }
        }
        while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
            out.push(f);
        }
        out
    }

    fn line(s: &str) -> Frame {
        Frame::Line(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn splits_lines_across_chunks() {
        let mut c = LineCodec::new(100);
        let got = frames(&mut c, &[b"ab", b"c\r\nd", b"\n\nlast"]);
        assert_eq!(got, vec![line("abc"), line("d"), line(""), line("last")]);
    }

    #[test]
    fn over_long_lines_are_skipped_and_reported_once() {
        let mut c = LineCodec::new(8);
        let got = frames(&mut c, &[b"0123", b"456789", b"abcdef\nok\n"]);
        assert_eq!(got.len(), 2);
        match &got[0] {
            Frame::TooLong { head, len } => {
                assert_eq!(*len, 16);
                assert_eq!(&head[..], b"0123456789");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(got[1], line("ok"));
        // Too long but arriving in one piece with its newline.
        let got = frames(&mut c, &[b"0123456789abc\nok\n"]);
        assert!(matches!(got[0], Frame::TooLong { len: 13, .. }));
        assert_eq!(got[1], line("ok"));
    }

    #[test]
    fn recovers_top_level_ids_only() {
        assert_eq!(
            recover_id(br#"{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"#),
            Some(17.into())
        );
        assert_eq!(
            recover_id(br#"{"method":"x","params":{"id":1,"s":"\"id\":2"},"id":"q\"1"}"#),
            Some(RequestId::String("q\"1".into()))
        );
        assert_eq!(recover_id(br#"{"method":"x","params":{"id":1,"#), None);
        assert_eq!(recover_id(b"garbage"), None);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any bytes, cut into any chunks, come out as the same lines; over-long lines are
        /// reported once each, with their true length.
        #[test]
        fn framing_reassembles_whatever_the_chunking(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..64), 0..20),
            cuts in proptest::collection::vec(1usize..17, 1..40),
        ) {
            let max = 40;
            let mut input = Vec::new();
            for line in &lines {
                input.extend_from_slice(line);
                input.push(b'\n');
            }
            let mut codec = LineCodec::new(max);
            let mut buf = BytesMut::new();
            let mut frames = vec![];
            let mut rest = &input[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() { break; }
                let n = (*cut).min(rest.len());
                buf.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                while let Some(f) = codec.decode(&mut buf).unwrap() { frames.push(f); }
            }
            while let Some(f) = codec.decode_eof(&mut buf).unwrap() { frames.push(f); }
            prop_assert_eq!(frames.len(), lines.len());
            for (frame, line) in frames.iter().zip(&lines) {
                let mut expected = line.clone();
                if expected.last() == Some(&b'\r') { expected.pop(); }
                match frame {
                    Frame::Line(got) if line.len() <= max => prop_assert_eq!(&got[..], &expected[..]),
                    Frame::TooLong { len, .. } if line.len() > max => prop_assert_eq!(*len, line.len()),
                    other => prop_assert!(false, "{:?} for a line of {} bytes", other, line.len()),
                }
            }
        }

        /// Parsing and id recovery never panic, whatever arrives.
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), text in ".{0,200}") {
            let _ = crate::protocol::Message::parse(&bytes);
            let _ = crate::protocol::Message::parse(text.as_bytes());
            let _ = recover_id(&bytes);
            let _ = recover_id(text.as_bytes());
        }

        /// A well-formed request round-trips through parsing and serialising.
        #[test]
        fn requests_round_trip(id in any::<i64>(), method in "[a-z/_]{1,20}", key in "[a-z]{1,8}", value in ".{0,40}") {
            let params = serde_json::json!({ key: value });
            let line = serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string();
            let crate::protocol::Parsed::Message(m) = crate::protocol::Message::parse(line.as_bytes()) else {
                return Err(TestCaseError::fail("a well-formed request was rejected"));
            };
            let again: serde_json::Value = serde_json::from_str(&m.to_line()).unwrap();
            prop_assert_eq!(again, serde_json::from_str::<serde_json::Value>(&line).unwrap());
            // The id sits at the top level, so it is recovered from the line's head too.
            prop_assert_eq!(recover_id(line.as_bytes()), Some(crate::protocol::RequestId::Number(id.into())));
        }
    }
}
