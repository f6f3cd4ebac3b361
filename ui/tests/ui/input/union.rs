use jobsess::JobMetadata;

#[derive(JobMetadata)]
union Job {
    a: u32,
    b: f32,
}

fn main() {}
