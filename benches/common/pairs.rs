//! Pairs of calls measured side by side: a floor written by hand and
//! jobsess (or a second floor) doing the same work, in alternating rounds.

use std::time::Instant;

/// One operation done by hand and by jobsess: `baseline` and `jobsess`
/// each run it once.
pub struct Pair<'a> {
    pub name: &'static str,
    pub baseline: Call<'a>,
    pub jobsess: Call<'a>,
    /// What the second side is: `jobsess`, or `script_floor` for a pair
    /// whose second side is the least Lua script that does an operation's
    /// work atomically, run by hand.
    pub label: &'static str,
}

/// One call of one side of a [`Pair`].
pub type Call<'a> = Box<dyn Fn() -> futures_util::future::LocalBoxFuture<'a, ()> + 'a>;

impl<'a> Pair<'a> {
    pub fn new<B, BF, J, JF>(name: &'static str, baseline: B, jobsess: J) -> Self
    where
        B: Fn() -> BF + 'a,
        BF: Future<Output = ()> + 'a,
        J: Fn() -> JF + 'a,
        JF: Future<Output = ()> + 'a,
    {
        Pair {
            name,
            baseline: Box::new(move || Box::pin(baseline())),
            jobsess: Box::new(move || Box::pin(jobsess())),
            label: "jobsess",
        }
    }

    /// A pair whose second side is a hand-written script, not jobsess.
    #[allow(dead_code)] // the PostgreSQL bench has no script floors
    pub fn floor(mut self) -> Self {
        self.label = "script_floor";
        self
    }
}

/// How many runs each pair gets; the figure is their median.
const RUNS: usize = 3;
/// Rounds per run: each round times both sides, in turn.
const ROUNDS: usize = 31;
/// Calls a side per round at the least; fast operations get more, so that
/// each side runs for about [`ROUND_TIME`] a round.
const PAIRED_CALLS: u32 = 100;
/// How long each side runs per round, at the least.
const ROUND_TIME: f64 = 5e-3;

/// Runs each pair's two sides in alternating rounds, as [`paired_calls`]
/// does: the calls of a round are awaited one after the other on `rt`.
fn paired<'a>(rt: &tokio::runtime::Runtime, pairs: &[&Pair<'a>]) {
    for pair in pairs {
        let (baseline, jobsess) = (&pair.baseline, &pair.jobsess);
        paired_calls(
            pair.name,
            pair.label,
            &mut |calls| awaited(rt, baseline, calls),
            &mut |calls| awaited(rt, jobsess, calls),
        );
    }
}

/// `op` called and awaited `calls` times, one after the other, on `rt`.
fn awaited(rt: &tokio::runtime::Runtime, op: &Call<'_>, calls: u32) {
    rt.block_on(async {
        for _ in 0..calls {
            op().await;
        }
    });
}

/// Runs `pairs` in paired rounds with `JOBSESS_BENCH_PAIRED` (those
/// [`chosen`]), else each as a criterion group of its two sides.
pub fn run<'a>(c: &mut criterion::Criterion, rt: &tokio::runtime::Runtime, pairs: &[Pair<'a>]) {
    if paired_mode() {
        let chosen: Vec<&Pair<'a>> = pairs.iter().filter(|pair| chosen(pair.name)).collect();
        paired(rt, &chosen);
        return;
    }
    for pair in pairs {
        let mut group = c.benchmark_group(pair.name);
        group.bench_function("baseline", |b| {
            b.to_async(rt).iter(|| (pair.baseline)());
        });
        group.bench_function(pair.label, |b| {
            b.to_async(rt).iter(|| (pair.jobsess)());
        });
        group.finish();
    }
}

/// Whether the pair `name` runs in paired rounds: `JOBSESS_BENCH_PAIRED`
/// is `1` (every pair) or part of its name.
pub fn chosen(name: &str) -> bool {
    std::env::var("JOBSESS_BENCH_PAIRED").is_ok_and(|only| only == "1" || name.contains(&only))
}

/// Whether the benches run in paired rounds (`JOBSESS_BENCH_PAIRED` set)
/// instead of as criterion groups.
pub fn paired_mode() -> bool {
    std::env::var_os("JOBSESS_BENCH_PAIRED").is_some()
}

/// Times two sides of one operation in alternating rounds (baseline first
/// in one round, the other side first in the next), so that the machine's
/// drift, which moves a criterion group's two halves apart when they run
/// seconds after each other, hits both sides alike. Each side is called
/// with how many times to do the operation (one loop, no boxing per call);
/// a round runs each side [`PAIRED_CALLS`] times, or more for a fast
/// operation, for at least [`ROUND_TIME`]. Each of [`RUNS`] runs gives the
/// median of its rounds' ratios; printed: the median time per call of
/// each side, the median of the runs' ratios, and the spread between runs
/// (lowest and highest).
pub fn paired_calls(
    name: &str,
    label: &str,
    baseline: &mut dyn FnMut(u32),
    jobsess: &mut dyn FnMut(u32),
) {
    let time = |side: &mut dyn FnMut(u32), calls: u32| {
        let started = Instant::now();
        side(calls);
        started.elapsed().as_secs_f64() / f64::from(calls)
    };
    // warm-up, which also sizes the rounds
    let slowest = time(baseline, PAIRED_CALLS).max(time(jobsess, PAIRED_CALLS));
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let calls = PAIRED_CALLS.max((ROUND_TIME / slowest).ceil().min(1e6) as u32);
    let (mut baselines, mut others, mut runs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let mut ratios = Vec::new();
        for round in 0..ROUNDS {
            let (b, j) = if round % 2 == 0 {
                let b = time(baseline, calls);
                (b, time(jobsess, calls))
            } else {
                let j = time(jobsess, calls);
                (time(baseline, calls), j)
            };
            baselines.push(b * 1e6);
            others.push(j * 1e6);
            ratios.push(j / b);
        }
        runs.push(median(ratios));
    }
    let (low, high) = runs
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
    let (b, j) = (median(baselines), median(others));
    println!(
        "{name}/paired: baseline {}, {label} {}, ratio {:.3}x (median of {RUNS} runs; runs {low:.3}x to {high:.3}x)",
        micros(b),
        micros(j),
        median(runs),
    );
}

/// A time per call in µs, with as many decimals as a short one needs.
fn micros(us: f64) -> String {
    if us < 10.0 {
        format!("{us:.3} µs")
    } else {
        format!("{us:.1} µs")
    }
}

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
