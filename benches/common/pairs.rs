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
/// Calls a side per round.
const PAIRED_CALLS: u32 = 100;

/// Runs each pair's two sides in alternating rounds (baseline first in
/// one round, jobsess first in the next), [`PAIRED_CALLS`] calls a side per
/// round, so that the machine's drift, which moves a criterion group's two
/// halves apart when they run seconds after each other, hits both sides
/// alike. Each of [`RUNS`] runs gives the median of its rounds' ratios;
/// printed per pair: the median time per call of each side, the median of
/// the runs' ratios, and the spread between runs (lowest and highest).
pub fn paired<'a>(rt: &tokio::runtime::Runtime, pairs: &[&Pair<'a>]) {
    let time = |op: &Call<'a>| {
        let started = Instant::now();
        rt.block_on(async {
            for _ in 0..PAIRED_CALLS {
                op().await;
            }
        });
        started.elapsed() / PAIRED_CALLS
    };
    for pair in pairs {
        // warm-up
        time(&pair.baseline);
        time(&pair.jobsess);
        let (mut baseline, mut jobsess, mut runs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let mut ratios = Vec::new();
            for round in 0..ROUNDS {
                let (b, j) = if round % 2 == 0 {
                    let b = time(&pair.baseline);
                    (b, time(&pair.jobsess))
                } else {
                    let j = time(&pair.jobsess);
                    (time(&pair.baseline), j)
                };
                baseline.push(b.as_secs_f64() * 1e6);
                jobsess.push(j.as_secs_f64() * 1e6);
                ratios.push(j.as_secs_f64() / b.as_secs_f64());
            }
            runs.push(median(ratios));
        }
        let (low, high) = runs
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        println!(
            "{}/paired: baseline {:.1} µs, {} {:.1} µs, ratio {:.3}x (median of {RUNS} runs; runs {low:.3}x to {high:.3}x)",
            pair.name,
            median(baseline),
            pair.label,
            median(jobsess),
            median(runs.clone()),
        );
    }
}

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
