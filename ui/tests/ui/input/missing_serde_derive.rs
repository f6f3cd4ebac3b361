use jobsess::JobMetadata;

#[derive(JobMetadata)]
struct Job {
    file: String,
}

fn main() {}
