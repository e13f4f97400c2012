//! The timestamp every load message carries, so each receiver can compute the
//! end-to-end latency on its own: `lt:RUN:SENDER:SEQ:UNIX_NANOS` in the body
//! (optionally padded after a space) and `lt-RUN-SENDER-SEQ-UNIX_NANOS` as the
//! `client_id`, whose ack then gives the send→ack latency. `RUN` is random per
//! run, so messages of an earlier or concurrent run are never counted.

use std::time::{SystemTime, UNIX_EPOCH};

/// Marks a load message's body; the peers echo the whole frame, so the raw mode
/// finds the stamp by searching for it.
const BODY_PREFIX: &str = "lt:";
const CLIENT_ID_PREFIX: &str = "lt-";

/// Who sent which message when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub run: u64,
    pub sender: u32,
    pub seq: u64,
    pub sent_unix_nanos: u64,
}

impl Stamp {
    /// The message body: the stamp, then `pad_to` bytes in all when asked for.
    pub fn body(&self, pad_to: usize) -> String {
        let mut body = format!(
            "{BODY_PREFIX}{:x}:{}:{}:{}",
            self.run, self.sender, self.seq, self.sent_unix_nanos
        );
        if body.len() + 1 < pad_to {
            body.push(' ');
            let fill = pad_to - body.len();
            body.extend(std::iter::repeat_n('x', fill));
        }
        body
    }

    /// The `client_id` of the send frame (1–64 printable ASCII characters).
    pub fn client_id(&self) -> String {
        format!(
            "{CLIENT_ID_PREFIX}{:x}-{}-{}-{}",
            self.run, self.sender, self.seq, self.sent_unix_nanos
        )
    }

    /// Parses a body made by [`Stamp::body`].
    pub fn parse_body(body: &str) -> Option<Stamp> {
        let rest = body.strip_prefix(BODY_PREFIX)?;
        let stamp = rest.split(' ').next()?;
        Self::parse_fields(stamp, ':')
    }

    /// Parses a `client_id` made by [`Stamp::client_id`].
    pub fn parse_client_id(client_id: &str) -> Option<Stamp> {
        Self::parse_fields(client_id.strip_prefix(CLIENT_ID_PREFIX)?, '-')
    }

    /// Finds a stamped body anywhere in a text frame (raw mode: the peer echoes
    /// the whole send frame). The stamp ends at the closing quote.
    pub fn find_in(text: &str) -> Option<Stamp> {
        let start = text.find(BODY_PREFIX)?;
        let tail = &text[start..];
        let end = tail.find('"').unwrap_or(tail.len());
        Self::parse_body(&tail[..end])
    }

    fn parse_fields(text: &str, sep: char) -> Option<Stamp> {
        let mut fields = text.split(sep);
        let stamp = Stamp {
            run: u64::from_str_radix(fields.next()?, 16).ok()?,
            sender: fields.next()?.parse().ok()?,
            seq: fields.next()?.parse().ok()?,
            sent_unix_nanos: fields.next()?.parse().ok()?,
        };
        fields.next().is_none().then_some(stamp)
    }
}

/// Nanoseconds since the Unix epoch: the one clock senders and receivers share
/// (they run in one process, or at least on one machine).
pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAMP: Stamp = Stamp {
        run: 0xbeef,
        sender: 7,
        seq: 42,
        sent_unix_nanos: 1_795_000_000_123_456_789,
    };

    #[test]
    fn a_body_round_trips_with_and_without_padding() {
        assert_eq!(Stamp::parse_body(&STAMP.body(0)), Some(STAMP));
        let padded = STAMP.body(200);
        assert_eq!(padded.len(), 200);
        assert_eq!(Stamp::parse_body(&padded), Some(STAMP));
    }

    #[test]
    fn a_client_id_round_trips_and_fits_the_protocol_limit() {
        let id = STAMP.client_id();
        assert!(id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(Stamp::parse_client_id(&id), Some(STAMP));
    }

    #[test]
    fn a_stamp_is_found_inside_an_echoed_frame() {
        let frame = format!(
            r#"{{"type":"send","room":"load-0","body":"{}","client_id":"{}"}}"#,
            STAMP.body(80),
            STAMP.client_id()
        );
        assert_eq!(Stamp::find_in(&frame), Some(STAMP));
    }

    #[test]
    fn other_bodies_are_not_stamps() {
        for body in [
            "",
            "hello",
            "lt:",
            "lt:zz:1:2:3",
            "lt:1:2:3",
            "lt:1:2:3:4:5",
            "lt:1:-2:3:4",
        ] {
            assert_eq!(Stamp::parse_body(body), None, "{body:?}");
        }
    }
}
