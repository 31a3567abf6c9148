//! The little SDP the switch needs: an audio offer and the answer's address and formats.

use std::net::{IpAddr, SocketAddr};

use crate::codec::Codec;

/// The dynamic payload type the switch offers for RFC 4733 telephone events.
pub const OFFER_EVENT_PT: u8 = 101;

/// An audio offer: PCMU, PCMA and telephone-event on `rtp`.
pub fn offer(session_id: u64, rtp: SocketAddr) -> String {
    let ip = rtp.ip();
    let family = if ip.is_ipv6() { "IP6" } else { "IP4" };
    format!(
        "v=0\r\n\
         o=daylight {session_id} 1 IN {family} {ip}\r\n\
         s=daylight\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP 0 8 {ev}\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:{ev} telephone-event/8000\r\n\
         a=fmtp:{ev} 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n",
        port = rtp.port(),
        ev = OFFER_EVENT_PT,
    )
}

/// An answer to a caller's offer: the one codec and (when offered) telephone events the switch
/// chose, on `rtp`.
pub fn answer(session_id: u64, rtp: SocketAddr, chosen: &Answer) -> String {
    let ip = rtp.ip();
    let family = if ip.is_ipv6() { "IP6" } else { "IP4" };
    let pt = chosen.codec.payload_type();
    let name = match chosen.codec {
        Codec::Pcmu => "PCMU",
        Codec::Pcma => "PCMA",
    };
    let (formats, events) = match chosen.event_pt {
        Some(ev) => {
            (format!("{pt} {ev}"), format!("a=rtpmap:{ev} telephone-event/8000\r\na=fmtp:{ev} 0-16\r\n"))
        }
        None => (pt.to_string(), String::new()),
    };
    format!(
        "v=0\r\n\
         o=daylight {session_id} 1 IN {family} {ip}\r\n\
         s=daylight\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP {formats}\r\n\
         a=rtpmap:{pt} {name}/8000\r\n\
         {events}\
         a=ptime:20\r\n\
         a=sendrecv\r\n",
        port = rtp.port(),
    )
}

/// What the far end answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Where to send the leg's RTP.
    pub rtp: SocketAddr,
    /// The audio codec chosen (the first G.711 format in the answer).
    pub codec: Codec,
    /// The payload type of telephone events, when the far end accepted them.
    pub event_pt: Option<u8>,
}

/// Parses an SDP answer; `None` when it has no usable audio stream.
pub fn parse_answer(sdp: &str) -> Option<Answer> {
    let mut session_ip: Option<IpAddr> = None;
    let mut media_ip: Option<IpAddr> = None;
    let mut port: Option<u16> = None;
    let mut formats: Vec<u8> = Vec::new();
    let mut event_pt = None;
    let mut in_audio = false;
    for line in sdp.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("m=") {
            in_audio = false;
            let mut parts = rest.split_whitespace();
            if parts.next() == Some("audio") && port.is_none() {
                port = parts.next().and_then(|p| p.parse().ok());
                let _proto = parts.next();
                formats = parts.filter_map(|f| f.parse().ok()).collect();
                in_audio = true;
            }
        } else if let Some(rest) = line.strip_prefix("c=") {
            let ip = rest.split_whitespace().nth(2).and_then(|a| a.parse().ok());
            if in_audio {
                media_ip = ip;
            } else if port.is_none() {
                session_ip = ip;
            }
        } else if let Some(rest) = line.strip_prefix("a=rtpmap:")
            && in_audio
        {
            let mut parts = rest.split_whitespace();
            let pt: Option<u8> = parts.next().and_then(|p| p.parse().ok());
            let name = parts.next().unwrap_or("");
            if name.to_ascii_lowercase().starts_with("telephone-event/8000") {
                event_pt = pt;
            }
        }
    }
    let port = port.filter(|&p| p != 0)?;
    let ip = media_ip.or(session_ip)?;
    let codec = formats.iter().find_map(|&pt| Codec::from_payload_type(pt))?;
    let event_pt = event_pt.filter(|pt| formats.contains(pt));
    Some(Answer { rtp: SocketAddr::new(ip, port), codec, event_pt })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_baresip_answer() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=audio 10002 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n\
                   a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
        let a = parse_answer(sdp).unwrap();
        assert_eq!(a.rtp, "127.0.0.1:10002".parse().unwrap());
        assert_eq!(a.codec, Codec::Pcma);
        assert_eq!(a.event_pt, Some(101));
    }

    #[test]
    fn our_offer_parses() {
        let o = offer(7, "127.0.0.1:4000".parse().unwrap());
        let a = parse_answer(&o).unwrap();
        assert_eq!(a.codec, Codec::Pcmu);
        assert_eq!(a.event_pt, Some(OFFER_EVENT_PT));
    }

    #[test]
    fn answers_an_offer_with_the_codec_chosen() {
        let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                     m=audio 10002 RTP/AVP 9 8 0 101\r\na=rtpmap:8 PCMA/8000\r\n\
                     a=rtpmap:101 telephone-event/8000\r\n";
        let chosen = parse_answer(offer).unwrap();
        assert_eq!((chosen.codec, chosen.event_pt), (Codec::Pcma, Some(101)));
        let ours = answer(9, "127.0.0.1:4000".parse().unwrap(), &chosen);
        assert!(ours.contains("m=audio 4000 RTP/AVP 8 101\r\n"), "{ours}");
        assert_eq!(parse_answer(&ours).unwrap(), Answer { rtp: "127.0.0.1:4000".parse().unwrap(), ..chosen });
        let plain = Answer { event_pt: None, ..chosen };
        assert!(answer(9, "127.0.0.1:4000".parse().unwrap(), &plain).contains("RTP/AVP 8\r\n"));
    }

    #[test]
    fn rejects_unusable_answers() {
        assert!(parse_answer("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n").is_none());
        assert!(parse_answer("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 9\r\n").is_none());
    }
}
