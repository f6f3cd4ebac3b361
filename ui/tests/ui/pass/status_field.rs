//! A status field, of jobsess's `Status` and of a type of the user's own.
use jobsess::{End, HasStatus, JobMetadata, JobSession, JobStatus, Status};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(prefix = "export", status = state)]
struct Export {
    file: String,
    #[serde(default, rename = "s")]
    state: Status,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
pub enum Phase {
    Busy,
    Done,
    Broken(String),
}

impl JobStatus for Phase {
    fn end(&self) -> Option<End> {
        match self {
            Phase::Busy => None,
            Phase::Done => Some(End::Finished),
            Phase::Broken(why) => Some(End::Failed(why.clone())),
        }
    }
    fn finished() -> Self {
        Phase::Done
    }
    fn failed(reason: String) -> Self {
        Phase::Broken(reason)
    }
}

#[derive(Serialize, Deserialize, JobMetadata)]
#[job_metadata(status = phase)]
pub struct Render {
    pub phase: Phase,
}

fn main() -> Result<(), jobsess::Error> {
    assert_eq!(<Export as HasStatus>::STATUS.name(), "s");
    let mut session = std::collections::HashMap::new();
    let mut jobs = JobSession::<Export, _>::new(&mut session);
    jobs.store("a", &Export { file: "a".into(), state: Status::Running })?;
    jobs.fail("a", "no disk")?;
    assert_eq!(jobs.load_field("a", Export::STATE)?, Some(Status::failed("no disk")));
    let mut renders = JobSession::<Render, _>::new(&mut session);
    renders.store("r", &Render { phase: Phase::Busy })?;
    renders.finish("r")?;
    assert_eq!(renders.load_field("r", Render::PHASE)?, Some(Phase::Done));
    Ok(())
}
