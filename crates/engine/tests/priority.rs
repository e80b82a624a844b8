//! With `background_priority` (as the window sets it) the engine's threads run below
//! the process's others; the thread that started the engine keeps its priority. Alone
//! in its test binary, so no other test's engine threads are counted.
#![cfg(target_os = "linux")]

mod support;

use std::fs;
use std::time::Duration;

use pixgrab_engine::{Command, Config, Engine, Event};
use url::Url;

/// Every thread of this process: (name, nice value), from /proc.
fn threads() -> Vec<(String, i64)> {
    let mut found = Vec::new();
    for task in fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let dir = task.expect("task").path();
        let (Ok(name), Ok(stat)) = (
            fs::read_to_string(dir.join("comm")),
            fs::read_to_string(dir.join("stat")),
        ) else {
            continue; // the thread ended meanwhile
        };
        // Fields after the name in parentheses; nice is field 19, the 17th after it.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let nice = after
            .split_whitespace()
            .nth(16)
            .and_then(|n| n.parse().ok())
            .expect("nice field");
        found.push((name.trim().to_string(), nice));
    }
    found
}

#[test]
fn the_engine_s_threads_run_below_the_window_s() {
    let server = support::site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(tmp.path());
    config.background_priority = true;
    let (engine, rx) = Engine::start(config).expect("start");
    let url = Url::parse(&server.url("/img/0.png")).expect("url");
    engine.run(Command::add(vec![url])).expect("add");
    let events = support::until_idle(&rx, Duration::from_secs(60));
    assert!(
        events.iter().any(|e| matches!(e, Event::Done { .. })),
        "{events:?}"
    );
    let threads = threads();
    let nice_of = |prefix: &str| -> Vec<i64> {
        threads
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(_, nice)| *nice)
            .collect()
    };
    // "reqwest-interna": the blocking client's connection thread.
    for prefix in ["pixgrab-thumb", "pixgrab-downloa", "reqwest-interna"] {
        let nices = nice_of(prefix);
        assert!(!nices.is_empty(), "no {prefix} thread in {threads:?}");
        assert!(nices.iter().all(|n| *n > 0), "{prefix}: {threads:?}");
    }
    // This thread (the window's, in the app) is untouched.
    let own = fs::read_to_string("/proc/thread-self/stat").expect("stat");
    let after = own.rsplit_once(')').map_or("", |(_, rest)| rest);
    assert_eq!(after.split_whitespace().nth(16), Some("0"), "{own}");
}
