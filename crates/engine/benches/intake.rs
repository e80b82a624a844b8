//! How fast URL intake reads a big paste: 10,000 and 100,000 URLs in prose-like text,
//! median of 5 runs each. Reports the time and the 100k/10k ratio (about 10 when intake
//! is linear; the old code lower-cased the rest of the text for every URL found).
//!
//! `cargo bench --bench intake`

use std::time::{Duration, Instant};

fn text(count: usize) -> String {
    (0..count)
        .map(|n| {
            format!(
                "see https://img{}.example.org/gallery/{n}/photo-{n}.jpg, ok\n",
                n % 7
            )
        })
        .collect()
}

fn median(count: usize) -> Duration {
    let text = text(count);
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let intake = pixgrab_engine::read_urls(&text);
            let took = start.elapsed();
            assert_eq!(intake.urls.len(), count);
            took
        })
        .collect();
    times.sort();
    times[2]
}

fn main() {
    let small = median(10_000);
    let big = median(100_000);
    println!("intake: 10,000 URLs in {small:.1?}, 100,000 URLs in {big:.1?}");
    println!(
        "ratio 100k/10k: {:.1} (10 is linear)",
        big.as_secs_f64() / small.as_secs_f64().max(1e-9)
    );
}
