//! The scheduler's unit tests.

use url::Url;

use super::*;

fn stop_of(job: &Job) -> u8 {
    job.stop.as_ref().map_or(0, |s| s.load(Ordering::Relaxed))
}

fn job(id: u64, url: &str) -> Job {
    Job::new(
        ItemId(id),
        Arc::new(Url::parse(url).expect("test URL")),
        id as i64,
    )
}

#[test]
fn a_push_of_10000_jobs_grows_each_hosts_queue_once_to_its_final_size() {
    // One job at a time, a host's queue was doubled to 16,384 places, holding its old
    // and new copies at once while it moved.
    let s = Scheduler::new(8, Some(2));
    s.push((0..10_001).map(|i| {
        let host = if i == 5_000 { "b" } else { "a" };
        job(i, &format!("http://{host}/{i}"))
    }));
    let state = s.lock();
    assert_eq!(state.hosts["a:80"].queue.capacity(), 10_000);
    assert_eq!(state.hosts["a:80"].queue.len(), 10_000);
    assert_eq!(state.hosts["b:80"].queue.len(), 1);
}

#[test]
fn per_host_limit_lets_other_hosts_through_in_order() {
    let s = Scheduler::new(8, Some(2));
    s.push([
        job(1, "http://a/1"),
        job(2, "http://a/2"),
        job(3, "http://a/3"),
        job(4, "http://b/4"),
        job(5, "http://a/5"),
    ]);
    let l1 = s.next().expect("lease");
    let l2 = s.next().expect("lease");
    let l3 = s.next().expect("lease");
    // a has two running, so b's item jumps ahead of a/3.
    assert_eq!([l1.job.id.0, l2.job.id.0, l3.job.id.0], [1, 2, 4]);
    s.finish(l1);
    assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
}

#[test]
fn a_lease_dropped_by_a_panicking_worker_frees_its_slots() {
    let s = Arc::new(Scheduler::new(1, Some(1)));
    s.push([job(1, "http://a/1"), job(2, "http://a/2")]);
    let worker = {
        let s = s.clone();
        std::thread::Builder::new()
            .name("test-panicking-worker".into())
            .spawn(move || {
                let _lease = s.next();
                panic!("injected");
            })
            .expect("spawn")
    };
    assert!(worker.join().is_err(), "the worker panicked");
    // With one slot in all, the next item only starts if the dropped lease freed it.
    assert_eq!(s.next().map(|l| l.job.id.0), Some(2));
}

#[test]
fn slots_freed_early_are_freed_once() {
    let s = Scheduler::new(1, Some(1));
    s.push([
        job(1, "http://a/1"),
        job(2, "http://a/2"),
        job(3, "http://b/3"),
    ]);
    let mut first = s.next().expect("lease");
    first.free_slots();
    // The one slot is free while the first job goes on: the second starts.
    let second = s.next().expect("lease");
    assert_eq!(second.job.id.0, 2);
    // Giving the first back (a retry) frees nothing more: the slot is still taken.
    assert!(matches!(
        s.retry(first, Duration::ZERO, false),
        Returned::Queued
    ));
    let state = s.lock();
    assert_eq!(state.active, 1, "only the second job holds a slot");
    drop(state);
    drop(second);
    assert_eq!(s.lock().active, 0);
}

#[test]
fn a_cancel_or_pause_that_races_a_retry_wins() {
    let s = Scheduler::new(8, Some(4));
    s.push([
        job(1, "http://a/1"),
        job(2, "http://a/2"),
        job(3, "http://a/3"),
    ]);
    let (one, two) = (s.next().expect("lease"), s.next().expect("lease"));
    // The user acts while the attempts are failing.
    assert!(s.cancel(ItemId(1)).is_none());
    assert!(matches!(s.pause(ItemId(2)), Paused::Stopping));
    assert!(
        matches!(s.retry(one, Duration::ZERO, false), Returned::Cancelled(j) if j.id == ItemId(1))
    );
    assert!(matches!(
        s.requeue_on_hold(two),
        Returned::Held(ItemId(2), 0)
    ));
    assert_eq!(s.held_ids(), [ItemId(2)]);
    s.release_hold();
    assert_eq!(
        s.next().map(|l| l.job.id.0),
        Some(3),
        "neither comes back on its own"
    );
    let late = s.shutdown();
    assert!(late.iter().any(|j| j.id == ItemId(2)));
}

#[test]
fn cancel_removes_queued_and_flags_running() {
    let s = Scheduler::new(8, Some(4));
    s.push([
        job(1, "http://a/1"),
        job(2, "http://a/2"),
        job(3, "http://a/3"),
    ]);
    let running = s.next().expect("lease");
    assert!(s.cancel(ItemId(1)).is_none());
    assert_eq!(stop_of(&running.job), STOP_CANCEL);
    assert_eq!(s.cancel(ItemId(3)).map(|(j, _)| j.id.0), Some(3));
    assert_eq!(
        s.cancel_all()
            .iter()
            .map(|(j, _)| j.id.0)
            .collect::<Vec<_>>(),
        [2]
    );
}

#[test]
fn a_retry_waits_for_its_delay_and_a_cool_down_holds_the_whole_host() {
    let s = Scheduler::new(8, Some(4));
    s.push([
        job(1, "http://a/1"),
        job(2, "http://a/2"),
        job(3, "http://b/3"),
    ]);
    let first = s.next().expect("lease");
    assert_eq!(first.job.id.0, 1);
    let start = Instant::now();
    assert!(matches!(
        s.retry(first, Duration::from_millis(150), true),
        Returned::Queued
    ));
    // Host a cools down: b goes first, then (after the delay) the retry before a/2.
    assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
    let again = s.next().expect("lease");
    assert_eq!(again.job.id.0, 1);
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert_eq!(s.next().map(|l| l.job.id.0), Some(2));
}

#[test]
fn pause_holds_new_starts_until_resume() {
    let s = Arc::new(Scheduler::new(8, Some(1)));
    s.hold();
    s.push([job(1, "http://a/1")]);
    let waiter = {
        let s = s.clone();
        std::thread::Builder::new()
            .name("test-waiter".into())
            .spawn(move || s.next().map(|l| l.job.id.0))
            .expect("spawn")
    };
    std::thread::sleep(Duration::from_millis(50));
    assert!(!waiter.is_finished(), "a paused scheduler handed out a job");
    s.release_hold();
    assert_eq!(waiter.join().expect("join"), Some(1));
}

#[test]
fn shutdown_releases_waiting_workers() {
    let s = Arc::new(Scheduler::new(8, Some(1)));
    let waiter = {
        let s = s.clone();
        std::thread::Builder::new()
            .name("test-waiter".into())
            .spawn(move || s.next().is_none())
            .expect("spawn")
    };
    assert!(s.shutdown().is_empty());
    assert!(waiter.join().expect("join"));
}

#[test]
fn paused_items_wait_until_resumed_and_running_ones_are_told_to_stop() {
    let s = Scheduler::new(8, Some(1));
    s.push([
        job(1, "http://a/1"),
        job(2, "http://a/2"),
        job(3, "http://a/3"),
    ]);
    let running = s.next().expect("lease");
    assert!(matches!(s.pause(ItemId(1)), Paused::Stopping));
    assert_eq!(stop_of(&running.job), STOP_PAUSE);
    assert!(matches!(s.pause(ItemId(2)), Paused::Held(ItemId(2), 0)));
    assert!(matches!(s.park(running), Returned::Held(ItemId(1), 0)));
    // 1 and 2 are held: 3 goes next although it was queued last.
    assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
    assert_eq!(s.held_ids(), [ItemId(1), ItemId(2)]);
    let back = s.take_held(&[ItemId(2), ItemId(9)]);
    assert_eq!(back.iter().map(|j| j.id).collect::<Vec<_>>(), [ItemId(2)]);
    assert_eq!(s.held_ids(), [ItemId(1)]);
    s.push(back);
    assert!(
        s.active_ids().contains(&ItemId(2)),
        "it waits in the queue again"
    );
}

#[test]
fn limits_change_while_running_and_move_to_top_reorders() {
    let s = Scheduler::new(1, Some(4));
    s.push([
        job(1, "http://a/1"),
        job(2, "http://b/2"),
        job(3, "http://c/3"),
    ]);
    let first = s.next().expect("lease");
    assert_eq!(first.job.id.0, 1);
    // The global limit of 1 is reached: raise it and the next one starts.
    s.set_limits(3, Some(4));
    s.rerank(&[(ItemId(3), -5)]);
    assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
    assert_eq!(s.next().map(|l| l.job.id.0), Some(2));
}

#[test]
fn a_minimum_interval_spaces_requests_to_one_host() {
    let s = Scheduler::new(8, Some(8));
    s.set_min_interval(Duration::from_millis(120));
    s.push([job(1, "http://a/1"), job(2, "http://a/2")]);
    let start = Instant::now();
    let _first = s.next().expect("lease");
    let _second = s.next().expect("lease");
    assert!(start.elapsed() >= Duration::from_millis(120));
}

/// Takes the next lease and says which lane it got.
fn lane_of_next(s: &Scheduler) -> (Lease<'_>, usize) {
    let lease = s.next().expect("lease");
    let lane = lease.lane();
    (lease, lane)
}

/// The host of `lease` answered over HTTP/2 with a small body.
fn answer_h2(s: &Scheduler, lease: &Lease<'_>) {
    s.answered(
        &lease.attempt(),
        Duration::from_millis(5),
        true,
        Some(1000),
        |_, _| {},
    );
}

#[test]
fn a_long_http2_list_spreads_over_lanes_each_opened_by_one_request() {
    let s = Scheduler::new(64, None);
    s.push((1..=300).map(|i| job(i, &format!("https://a/{i}"))));
    // Before any answer, one request on each lane (each opens its connection), and
    // no more.
    let (first, lane) = lane_of_next(&s);
    assert_eq!(lane, 0);
    let mut leases: Vec<(Lease<'_>, usize)> =
        (1..adapt::H2_CONNS).map(|_| lane_of_next(&s)).collect();
    let lanes: Vec<usize> = leases.iter().map(|(_, l)| *l).collect();
    assert_eq!(lanes, (1..adapt::H2_CONNS).collect::<Vec<_>>());
    {
        let state = s.lock();
        assert_eq!(state.host_busy("a:443"), state.host_limit("a:443"));
    }
    // The host says it speaks HTTP/2: the long list's start, and one more (the answer
    // came to a request that ran with every slot taken), over the lanes that are up.
    answer_h2(&s, &first);
    assert_eq!(s.lock().host_limit("a:443"), adapt::LONG_START + 1);
    // Lane 1 answers (its connection is up); lanes 2 and on have not yet.
    answer_h2(&s, &leases[0].0);
    s.finish(first);
    for _ in 0..6 {
        let (lease, lane) = lane_of_next(&s);
        assert!(
            lane < 2,
            "lanes 2 and on carry one request until up (got {lane})"
        );
        answer_h2(&s, &lease);
        leases.push((lease, lane));
    }
    let state = s.lock();
    let host = state.hosts.get("a:443").expect("host");
    assert_eq!(host.lanes.map(|l| l.running)[2..], [1; adapt::H2_CONNS - 2]);
    assert!(host.lanes[0].running >= 2 && host.lanes[1].running >= 2);
    assert_eq!(
        host.lanes.iter().map(|l| l.running).sum::<usize>(),
        host.active
    );
}

#[test]
fn a_short_http2_list_and_a_refused_one_stay_on_one_connection() {
    let s = Scheduler::new(64, None);
    // A handful: one connection is enough.
    s.push((1..=10).map(|i| job(i, &format!("https://few/{i}"))));
    let (first, _) = lane_of_next(&s);
    answer_h2(&s, &first);
    for _ in 0..3 {
        assert_eq!(lane_of_next(&s).1, 0);
    }
    // A long list spreads, until the host refuses: then it folds onto lane 0.
    let s = Scheduler::new(64, None);
    s.push((100..400).map(|i| job(i, &format!("https://many/{i}"))));
    let (first, _) = lane_of_next(&s);
    answer_h2(&s, &first);
    let refused = lane_of_next(&s);
    assert_eq!(refused.1, 1);
    s.congestion(&refused.0, Congestion::Refused, |_, _| {});
    drop((first, refused));
    for _ in 0..3 {
        let (lease, lane) = lane_of_next(&s);
        assert_eq!(lane, 0, "after a refusal every new stream goes over lane 0");
        drop(lease);
    }
}

#[test]
fn a_long_list_starts_one_doubling_higher_than_a_short_one() {
    let s = Scheduler::new(48, None);
    s.push((1..=10).map(|i| job(i, &format!("http://short/{i}"))));
    s.push((1..=100).map(|i| job(100 + i, &format!("http://long/{i}"))));
    // A host first seen with a short list keeps its start when more come later.
    s.push((1..=100).map(|i| job(200 + i, &format!("http://short/more-{i}"))));
    let state = s.lock();
    assert_eq!(state.host_limit("short:80"), adapt::START);
    assert_eq!(state.host_limit("long:80"), adapt::LONG_START);
}
