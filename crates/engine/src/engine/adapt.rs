//! Adaptive per-host concurrency: how many downloads one host gets at once when the
//! user has not fixed it. A pure state machine (time comes in as arguments), driven by
//! the scheduler.
//!
//! Start polite ([`START`], or [`LONG_START`] for a long list; over TLS with one request
//! alone until the first answer says whether the host speaks HTTP/2, so that its
//! requests share one connection instead of racing to open several, or for a long list
//! with one request on each of [`H2_CONNS`] connections, the lanes it would spread over
//! anyway). Grow only on confirmation: an answer to a request that ran
//! with every slot of its host taken, while more of the host's items wait, and that came
//! quickly. A small body ([`SMALL_BODY`] or less announced) confirms with its response
//! headers, as its time is all round trips; a larger one confirms once it arrived whole
//! and only if latency, not bandwidth, bounded it. Until the first sign of trouble each
//! confirmation adds one (slow start);
//! after it, one per `limit` confirmations (additive). Shrink at once: a refusal
//! (429/503) sets a ceiling one below the limit the refused request was out under, so
//! the limit settles where the host said stop and does not probe past it again soon;
//! resets, timeouts and stalls halve the limit; answers that come far slower than the
//! host's best halve it too. Never above the hard cap ([`H1_CAP`],
//! or [`H2_CAP`] on an HTTP/2 connection, where streams share one connection and the
//! server's own stream limit is the ceiling; [`H2_SPREAD_CAP`] while spread over lanes
//! in slow start).
//!
//! An HTTP/2 host's streams spread over up to [`H2_CONNS`] connections ("lanes",
//! [`HostLimit::lanes`]) once more of its items wait than one connection has streams
//! ([`H2_CAP`]), while its limit is still in slow start: each connection ramps its own
//! congestion window, as a browser's or aria2c's several HTTP/1.1 connections do, instead
//! of one window carrying every stream. Spread, the host gets at most
//! [`H2_SPREAD_CAP`] streams, and keeps its lanes to the end of its list. At the first
//! trouble or refusal new streams fold back onto one connection (lane 0).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Where every host starts.
pub(crate) const START: usize = 4;
/// A host with at least this many items queued when it is first seen has a long list...
pub(crate) const LONG_LIST: usize = 64;
/// ...and starts here instead: the first round of a long list opens this many
/// connections at once (a browser opens 6 per host, aria2c's `-j16` 16), saving the
/// round trip a doubling from [`START`] costs. A host that allows only [`START`] refuses
/// at most the other four, once, and the limit settles where it refused (the politeness
/// test's bound: one doubling's worth). Measured on the bench (40 ms, 200 Mbit/s, 400
/// files of 100 KB over HTTP/1.1), a fixed 16 from the start took 1.94-2.06 s against
/// 2.06-2.13 s starting at 4: the ramp from 4 cost about 0.1 s of a 2 s list.
pub(crate) const LONG_START: usize = 8;
/// The most one host gets over HTTP/1.1 (each slot is a connection).
pub(crate) const H1_CAP: usize = 16;
/// The most one host gets over HTTP/2 on one connection (each slot is a stream).
pub(crate) const H2_CAP: usize = 48;
/// The most one HTTP/2 host gets while spread over its lanes (three streams a lane).
/// Eight windows in slow start ramp eight times as fast as one, and every stream's
/// body is asked for at once: at 48 streams of 100 KB (4.8 MB, with a 1 MB
/// bandwidth-delay product) the link's queue overflowed and the server resent 38-97
/// segments in 6 of 7 runs on the bench. Medians of 7 alternated runs (8 lanes):
/// 48 streams 2.005 s, 32 1.999 s, 24 1.982 s (runs 1.966-1.989, no segment
/// resent), 16 1.988 s; aria2c 2.010 s.
pub(crate) const H2_SPREAD_CAP: usize = 24;
/// The most connections one HTTP/2 host gets at once (lanes; see [`HostLimit::lanes`]).
/// Eight: each connection starts its own congestion window, so eight open a host's
/// first round trips with eight windows. A long list sends one request on each before
/// the first answer: as many as a long plain-HTTP list's [`LONG_START`], half of
/// aria2c's 16 connections. On the bench (40 ms, 200 Mbit/s, 400 files of 100 KB over
/// h2) the link's first 0.2 s carried 13 and 55 Mbit/s with 4 lanes, 26 and 104 with
/// 8 (aria2c 44 and 98). Medians of 7 alternated runs, the lanes kept to the list's
/// end and at most 48 streams: 4 lanes 2.091 s, 6 lanes 2.034 s, 8 lanes 2.055 s, and
/// 8 lanes at most 32 streams 2.011 s; aria2c 2.005 s.
pub(crate) const H2_CONNS: usize = 8;
/// A body announced at most this big confirms a level with its response headers: on
/// any link worth adapting for it arrives within a few round trips, so waiting for it
/// would only slow the start (measured: 400 files of 100 KB over a 40 ms link took
/// 2.05 s growing at completion, 1.9x s growing at the answer).
pub(crate) const SMALL_BODY: u64 = 256 * 1024;
/// A refusal's ceiling rises by one after this long without another refusal.
const CEILING_RELAX: Duration = Duration::from_secs(60);

/// What an attempt's end says about the host's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Congestion {
    /// The host said it is overloaded (429, 503).
    Refused,
    /// The connection broke, timed out or stalled.
    Trouble,
    /// Nothing about load (a 404, a bad image, a cancel).
    None,
}

/// One host's adaptive limit.
#[derive(Debug, Clone)]
pub(crate) struct HostLimit {
    limit: usize,
    /// Answers counted towards the next additive step.
    credit: usize,
    /// Still doubling (no trouble seen yet).
    slow_start: bool,
    /// A level the host refused, minus one: the limit stays at or below it.
    ceiling: Option<(usize, Instant)>,
    /// The host answered over HTTP/2.
    http2: bool,
    /// The quickest answer seen (time to the response headers).
    best: Option<Duration>,
    /// The latest raises of the limit (when, to what), to tell what a request that
    /// started earlier was out under.
    raises: VecDeque<(Instant, usize)>,
    /// Waiting for the first answer (a TLS host: HTTP/2 or not is not known yet).
    probing: bool,
    /// Where the limit starts once the host is known ([`START`] or [`LONG_START`]).
    start: usize,
    /// Spread over the lanes: a long list over TLS from the start, an HTTP/2 host once
    /// more of its items waited than one connection carries. An HTTP/2 host stays
    /// spread until slow start ends (see [`HostLimit::lanes`]).
    spread: bool,
    /// The limit last returned as changed (a change made where nothing can report it,
    /// in [`HostLimit::lanes`], is returned by the next answer or end).
    reported: usize,
}

/// Raises remembered in [`HostLimit::raises`].
const RAISES_KEPT: usize = 16;

impl Default for HostLimit {
    fn default() -> Self {
        Self {
            limit: START,
            credit: 0,
            slow_start: true,
            ceiling: None,
            http2: false,
            best: None,
            raises: VecDeque::new(),
            probing: false,
            start: START,
            spread: false,
            reported: START,
        }
    }
}

impl HostLimit {
    /// A host with `waiting` items queued when first seen. Reached over TLS (`tls`) it
    /// starts with one request, until its first answer tells whether it speaks HTTP/2;
    /// then, and any other host at once, at [`START`], or [`LONG_START`] for a long list
    /// ([`LONG_LIST`]). A long list over TLS starts with one request on each of its
    /// [`H2_CONNS`] lanes instead of one alone: an HTTP/2 host would be spread over them
    /// as soon as it answered, so they open at once, each its handshakes and its own
    /// congestion window a round trip or two earlier (the first answer was that late);
    /// an HTTP/1.1 host gets no more at once than [`LONG_START`], where it would start
    /// anyway (so its first answer leaves the limit as it is).
    pub(crate) fn new(tls: bool, waiting: usize) -> Self {
        let long = waiting >= LONG_LIST;
        let start = if long { LONG_START } else { START };
        let limit = match (tls, long) {
            (false, _) => start,
            (true, false) => 1,
            (true, true) => H2_CONNS,
        };
        Self {
            limit,
            probing: tls,
            start,
            spread: tls && long,
            reported: limit,
            ..Self::default()
        }
    }

    /// How many downloads the host may have at once now.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Over how many connections (lanes) the host's next requests spread, with `waiting`
    /// of its items queued: up to [`H2_CONNS`] (never more than its limit) once an
    /// HTTP/2 host has had more items waiting than one connection has streams
    /// ([`H2_CAP`]), and while it is still in slow start; one otherwise (after trouble
    /// or a refusal the extra connections are left to go idle and expire). A spread
    /// host keeps its lanes to the end of its list: folding onto one connection when
    /// few are left handed the last files to a window grown for a share of the link
    /// (on the bench, the last 0.3-1 s of a 2 s list ran at 40-130 Mbit/s of 200).
    /// A long list over TLS starts on every lane; if the host turns out to speak
    /// HTTP/1.1 (a connection per request either way), its requests keep spreading over
    /// the lanes, so the connections those first requests opened are used again.
    pub(crate) fn lanes(&mut self, waiting: usize) -> usize {
        let spread = if self.http2 {
            self.spread |= waiting > H2_CAP;
            // A host that ramped on one connection may be past the spread cap.
            self.limit = self.limit.min(self.hard_cap());
            self.slow_start && self.spread
        } else {
            self.spread
        };
        if spread {
            H2_CONNS.min(self.limit).max(1)
        } else {
            1
        }
    }

    /// The most the host may have at once, whatever it refused: [`H1_CAP`], or over
    /// HTTP/2 [`H2_SPREAD_CAP`] while spread in slow start, else [`H2_CAP`].
    fn hard_cap(&self) -> usize {
        match (self.http2, self.spread && self.slow_start) {
            (false, _) => H1_CAP,
            (true, true) => H2_SPREAD_CAP,
            (true, false) => H2_CAP,
        }
    }

    fn cap(&self, now: Instant) -> usize {
        let hard = self.hard_cap();
        match self.ceiling {
            Some((ceiling, at)) => {
                // A refusal long ago says less: let the limit probe one higher per period.
                let relaxed =
                    now.saturating_duration_since(at).as_secs() / CEILING_RELAX.as_secs().max(1);
                let relaxed = usize::try_from(relaxed).unwrap_or(usize::MAX);
                ceiling.saturating_add(relaxed).min(hard)
            }
            None => hard,
        }
    }

    /// The host answered (response headers) `ttfb` after the request started, over
    /// HTTP/2 or not. Ends the first-request probe of a TLS host; an answer far slower
    /// than the host's best halves the limit. `small_busy`: the body is announced small
    /// ([`SMALL_BODY`]) and the request ran with every slot of the host taken while more
    /// of its items wait; a quick such answer confirms the level. Returns the new limit
    /// if it changed.
    pub(crate) fn answered(
        &mut self,
        ttfb: Duration,
        http2: bool,
        small_busy: bool,
        now: Instant,
    ) -> Option<usize> {
        self.http2 |= http2;
        if std::mem::take(&mut self.probing) {
            self.limit = self.limit.max(self.start);
        }
        let best = *self.best.get_or_insert(ttfb);
        self.best = Some(best.min(ttfb));
        if ttfb > best * 8 + Duration::from_secs(1) {
            // Far slower than this host can answer: it (or the path) is struggling.
            self.shrink();
        } else if small_busy && self.quick(ttfb) {
            self.confirm(now);
        }
        self.limit = self.limit.min(self.cap(now)).max(1);
        self.report()
    }

    /// The limit, if it changed since it was last returned.
    fn report(&mut self) -> Option<usize> {
        (self.limit != self.reported).then(|| {
            self.reported = self.limit;
            self.limit
        })
    }

    /// An answer this quick shows the host copes with the current level.
    fn quick(&self, ttfb: Duration) -> bool {
        let best = self.best.unwrap_or(ttfb);
        ttfb <= best * 3 + Duration::from_millis(50)
    }

    /// One confirmation of the current level: adds one to the limit, at once in slow
    /// start, else once per `limit` confirmations.
    fn confirm(&mut self, now: Instant) {
        let before = self.limit;
        self.credit += 1;
        let step = if self.slow_start { 1 } else { self.limit };
        if self.credit >= step {
            self.credit = 0;
            self.limit = (self.limit + 1).min(self.cap(now)).max(1);
            if self.limit > before {
                if self.raises.len() == RAISES_KEPT {
                    self.raises.pop_front();
                }
                self.raises.push_back((now, self.limit));
            }
        }
    }

    /// A body larger than [`SMALL_BODY`] (or of unknown size) arrived whole, `total`
    /// after its request started (`ttfb` to its headers). `busy`: it ran with every slot
    /// of the host taken and more of its items wait. The limit grows when that request
    /// was quick to answer and bound by latency
    /// rather than by bandwidth (its answer took at least a quarter of its time): more
    /// at once then hides round trips, whereas once bodies take long, the link is what
    /// limits, and more at once would only split it (and bunch up the thumbnails at the
    /// end). Returns the new limit if it changed.
    pub(crate) fn completed(
        &mut self,
        ttfb: Duration,
        total: Duration,
        busy: bool,
        now: Instant,
    ) -> Option<usize> {
        let latency_bound = ttfb * 4 >= total;
        if busy && self.quick(ttfb) && latency_bound {
            self.confirm(now);
        }
        self.report()
    }

    /// An attempt that started at `started` under limit `limit` ended this way.
    /// Returns the new limit if it changed.
    pub(crate) fn ended(
        &mut self,
        how: Congestion,
        limit: usize,
        started: Instant,
        now: Instant,
    ) -> Option<usize> {
        match how {
            Congestion::Refused => {
                // The host refused while the request was out: under `limit`, or under
                // the next raise if one came meanwhile (a request started just after
                // may have got there first). Stay below that. The first refusal ends
                // slow start, which may have doubled the limit in the round that was
                // refused (every request of that round started under the doubled limit):
                // go back to the level before the round, never below where hosts start.
                let raised = self
                    .raises
                    .iter()
                    .any(|(at, l)| *at >= started && *l > limit);
                let out_under = limit + usize::from(raised);
                let mut below = out_under.saturating_sub(1).max(1);
                if self.slow_start {
                    below = below.min(out_under.div_ceil(2).max(START));
                }
                let ceiling = self.ceiling.map_or(below, |(c, _)| c.min(below));
                self.ceiling = Some((ceiling, now));
                self.slow_start = false;
                self.credit = 0;
                self.limit = self.limit.min(ceiling).max(1);
            }
            Congestion::Trouble => self.shrink(),
            Congestion::None => {}
        }
        self.report()
    }

    fn shrink(&mut self) {
        self.slow_start = false;
        self.credit = 0;
        self.limit = (self.limit / 2).max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Duration = Duration::from_millis(40);

    /// A quick small answer: headers after `ttfb`, the body right after.
    fn answer(
        host: &mut HostLimit,
        ttfb: Duration,
        http2: bool,
        busy: bool,
        now: Instant,
    ) -> Option<usize> {
        let a = host.answered(ttfb, http2, false, now);
        let b = host.completed(ttfb, ttfb * 2, busy, now);
        b.or(a).map(|_| host.limit())
    }

    #[test]
    fn a_quick_busy_host_doubles_per_round_up_to_the_cap() {
        let now = Instant::now();
        let mut host = HostLimit::default();
        assert_eq!(host.limit(), START);
        // One round: every slot answers.
        for _ in 0..START {
            answer(&mut host, FAST, false, true, now);
        }
        assert_eq!(host.limit(), 2 * START);
        for _ in 0..100 {
            answer(&mut host, FAST, false, true, now);
        }
        assert_eq!(host.limit(), H1_CAP);
        // HTTP/2 lifts the cap.
        for _ in 0..200 {
            answer(&mut host, FAST, true, true, now);
        }
        assert_eq!(host.limit(), H2_CAP);
    }

    #[test]
    fn an_http2_host_spreads_over_lanes_once_much_waits_and_until_trouble() {
        let now = Instant::now();
        let mut host = HostLimit::new(true, 10);
        assert_eq!(host.lanes(1000), 1, "not known to speak HTTP/2 yet");
        host.answered(FAST, true, false, now);
        assert_eq!(host.limit(), START);
        assert_eq!(host.lanes(H2_CAP), 1, "a list one connection carries");
        assert_eq!(host.lanes(1000), H2_CONNS.min(START));
        for _ in 0..100 {
            answer(&mut host, FAST, true, true, now);
        }
        // Spread, the limit stops where the lanes' windows carry it without queueing...
        assert_eq!(host.limit(), H2_SPREAD_CAP);
        // ...and the lanes carry the list to its end (folding onto one connection
        // near the end left the last files to a window grown for a share of the link).
        assert_eq!((host.lanes(1000), host.lanes(1)), (H2_CONNS, H2_CONNS));
        // Trouble ends slow start: back onto one connection, under the one-connection
        // cap.
        let spread = host.clone();
        host.ended(Congestion::Trouble, H2_SPREAD_CAP, now, now);
        assert_eq!(host.lanes(1000), 1);
        for _ in 0..10_000 {
            answer(&mut host, FAST, true, true, now);
        }
        assert_eq!(host.limit(), H2_CAP);
        // So does a refusal: the ceiling goes back to the level before the round, and
        // relaxes, once folded, towards the one-connection cap.
        let mut host = spread;
        host.ended(Congestion::Refused, H2_SPREAD_CAP, now, now);
        assert_eq!(host.lanes(1000), 1);
        assert_eq!(host.limit(), H2_SPREAD_CAP / 2);
        let later = now + Duration::from_secs(3600);
        for _ in 0..10_000 {
            answer(&mut host, FAST, true, true, later);
        }
        assert_eq!(host.limit(), H2_CAP);
        // A host that ramped on one connection past the spread cap, then got a long
        // list: spread, it comes down to the cap at once (not at its next answer), and
        // the change is reported with the next answer.
        let mut host = HostLimit::new(true, 40);
        for _ in 0..40 {
            answer(&mut host, FAST, true, true, now);
        }
        assert!(host.limit() > H2_SPREAD_CAP, "{}", host.limit());
        assert_eq!(host.lanes(40), 1);
        assert_eq!(host.lanes(300), H2_CONNS);
        assert_eq!(host.limit(), H2_SPREAD_CAP);
        assert_eq!(host.answered(FAST, true, false, now), Some(H2_SPREAD_CAP));
        // HTTP/1.1 hosts have a connection per slot already.
        let mut h1 = HostLimit::new(true, 10);
        h1.answered(FAST, false, false, now);
        assert_eq!(h1.lanes(1000), 1);
    }

    #[test]
    fn small_bodies_confirm_with_their_headers_and_only_then() {
        let now = Instant::now();
        let mut host = HostLimit::default();
        // A round of quick answers announcing small bodies doubles the limit before
        // any body is complete.
        for _ in 0..START {
            host.answered(FAST, false, true, now);
        }
        assert_eq!(host.limit(), 2 * START);
        // Not busy (or not small): the answer alone proves nothing.
        for _ in 0..20 {
            host.answered(FAST, false, false, now);
        }
        assert_eq!(host.limit(), 2 * START);
        // A slow answer does not confirm.
        host.answered(FAST * 4 + Duration::from_millis(60), false, true, now);
        assert_eq!(host.limit(), 2 * START);
    }

    #[test]
    fn a_refusal_in_slow_start_goes_back_to_the_level_before_the_round() {
        let now = Instant::now();
        let mut host = HostLimit::default();
        for _ in 0..START {
            host.answered(FAST, false, true, now);
        }
        assert_eq!(host.limit(), 2 * START);
        // Every request of the doubled round started under 8, and the host allows 4:
        // the first refusal goes back to 4, the others of the round change nothing.
        let sent = now + Duration::from_millis(1);
        for k in 1..=4 {
            host.ended(Congestion::Refused, 2 * START, sent, sent + FAST * k);
            assert_eq!(host.limit(), START);
        }
        // A request started under the new limit and refused takes it one lower.
        let later = sent + FAST * 10;
        host.ended(Congestion::Refused, START, later, later + FAST);
        assert_eq!(host.limit(), START - 1);
    }

    #[test]
    fn a_tls_host_sends_one_request_until_it_answers() {
        let now = Instant::now();
        let mut host = HostLimit::new(true, 10);
        assert_eq!(host.limit(), 1);
        assert_eq!(answer(&mut host, FAST, true, false, now), Some(START));
        assert_eq!(HostLimit::new(false, 10).limit(), START);
    }

    #[test]
    fn a_long_list_starts_one_doubling_higher() {
        let now = Instant::now();
        assert_eq!(HostLimit::new(false, LONG_LIST - 1).limit(), START);
        assert_eq!(HostLimit::new(false, LONG_LIST).limit(), LONG_START);
        // Over TLS, one request on each lane first, then the long list's start, still
        // spread over the lanes: over HTTP/1.1 to the end of the list (their
        // connections are used again)...
        let mut host = HostLimit::new(true, 400);
        assert_eq!((host.limit(), host.lanes(400)), (H2_CONNS, H2_CONNS));
        answer(&mut host, FAST, false, false, now);
        assert_eq!(host.limit(), LONG_START);
        assert_eq!((host.lanes(399), host.lanes(1)), (H2_CONNS, H2_CONNS));
        // ...over HTTP/2 too, to the end of the list, while it ramps. (Both start on
        // the lanes at LONG_START already: the first answer changes no limit.)
        let mut host = HostLimit::new(true, 400);
        answer(&mut host, FAST, true, false, now);
        assert_eq!(host.limit(), LONG_START);
        assert_eq!((host.lanes(399), host.lanes(1)), (H2_CONNS, H2_CONNS));
        // A long list over plain HTTP: one lane (a connection per slot already).
        assert_eq!(HostLimit::new(false, 400).lanes(400), 1);
        // A short list over TLS: one request alone, on one connection.
        let mut host = HostLimit::new(true, LONG_LIST - 1);
        assert_eq!((host.limit(), host.lanes(LONG_LIST - 1)), (1, 1));
        // A refusal in the first round settles at the level a short list starts at.
        let mut host = HostLimit::new(false, 400);
        host.ended(Congestion::Refused, LONG_START, now, now);
        assert_eq!(host.limit(), START);
    }

    /// `Config::per_host`'s docs and the CLI's `--per-host` help give these numbers in
    /// words (public docs cannot link these private constants).
    #[test]
    fn the_numbers_the_public_docs_give_are_the_constants() {
        assert_eq!((START, H1_CAP, H2_CAP), (4, 16, 48));
    }

    #[test]
    fn an_idle_host_does_not_grow() {
        let now = Instant::now();
        let mut host = HostLimit::default();
        for _ in 0..50 {
            answer(&mut host, FAST, false, false, now);
        }
        assert_eq!(host.limit(), START);
    }

    #[test]
    fn a_refusal_sets_a_ceiling_that_holds_until_it_relaxes() {
        let now = Instant::now();
        let mut host = HostLimit::default();
        for _ in 0..8 {
            answer(&mut host, FAST, false, true, now);
        }
        assert!(host.limit() > 5);
        // Refusals arrive in any order from requests started under limits 5..=8
        // (after the raises).
        let sent = now + Duration::from_millis(1);
        for limit in [7, 5, 8, 6] {
            host.ended(Congestion::Refused, limit, sent, sent);
        }
        assert_eq!(host.limit(), 4);
        for _ in 0..100 {
            answer(&mut host, FAST, false, true, now);
        }
        assert_eq!(host.limit(), 4, "no probing past the refused level");
        // A minute later it may try one more.
        let later = sent + CEILING_RELAX;
        for _ in 0..100 {
            answer(&mut host, FAST, false, true, later);
        }
        assert_eq!(host.limit(), 5);
    }

    #[test]
    fn a_refusal_counts_raises_made_while_the_request_was_out() {
        let start = Instant::now();
        let mut host = HostLimit::default();
        // A request goes out under 4; a raise to 5 follows, whose request gets to the
        // host first; the first one is refused.
        let sent = start;
        answer(
            &mut host,
            FAST,
            false,
            true,
            start + Duration::from_millis(1),
        );
        assert_eq!(host.limit(), 5);
        host.ended(
            Congestion::Refused,
            4,
            sent,
            start + Duration::from_millis(2),
        );
        assert_eq!(host.limit(), 4, "the refusal was under 5, not under 4");
    }

    #[test]
    fn a_host_bound_by_bandwidth_does_not_grow() {
        let now = Instant::now();
        let mut host = HostLimit::default();
        for _ in 0..50 {
            host.answered(FAST, false, false, now);
            // Big bodies: the answer is a small part of each request's time.
            host.completed(FAST, FAST * 20, true, now);
        }
        assert_eq!(host.limit(), START);
    }

    #[test]
    fn trouble_and_slow_answers_halve_the_limit() {
        let now = Instant::now();
        let mut host = HostLimit::default();
        for _ in 0..12 {
            answer(&mut host, FAST, false, true, now);
        }
        assert_eq!(host.limit(), 16);
        assert_eq!(host.ended(Congestion::Trouble, 16, now, now), Some(8));
        assert_eq!(host.ended(Congestion::None, 8, now, now), None);
        assert_eq!(
            answer(&mut host, Duration::from_secs(3), false, true, now),
            Some(4)
        );
        // After trouble growth is additive: one step per `limit` answers.
        for _ in 0..3 {
            answer(&mut host, FAST, false, true, now);
        }
        assert_eq!(host.limit(), 4);
        answer(&mut host, FAST, false, true, now);
        assert_eq!(host.limit(), 5);
        for _ in 0..10 {
            host.ended(Congestion::Trouble, 1, now, now);
        }
        assert_eq!(host.limit(), 1);
    }
}
