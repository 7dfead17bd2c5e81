//! What zw-core's benches share: the process's peak resident set, read
//! from `/proc/self/status` (`VmHWM`; 0 where there is none). zw-testkit has
//! the same reader, but zw-core cannot take it as a dev-dependency (it
//! depends on zw-core).

pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
