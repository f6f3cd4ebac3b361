//! An axum app on each supported tower-sessions version serves jobs
//! through the same `jobsess::axum::Jobs<M>`, over real HTTP with a cookie
//! jar; and an app without a session layer answers 500.

use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use jobsess::JobMetadata;
use jobsess::axum::Jobs;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata)]
struct Export {
    file: String,
    #[serde(default)]
    progress: u8,
}

async fn start(jobs: Jobs<Export>, Path(id): Path<String>) -> Result<StatusCode, jobsess::Error> {
    jobs.store(
        &id,
        &Export {
            file: format!("{id}.csv"),
            progress: 0,
        },
    )
    .await?;
    jobs.store_field(&id, Export::PROGRESS, &40).await?;
    Ok(StatusCode::CREATED)
}

async fn show(jobs: Jobs<Export>, Path(id): Path<String>) -> Result<String, jobsess::Error> {
    let progress = jobs.load_field(&id, Export::PROGRESS).await?;
    let job = jobs.load(&id).await?.ok_or(jobsess::Error::JobNotFound {
        key: jobs.key(&id)?,
    })?;
    Ok(format!("{} {}", job.file, progress.unwrap_or_default()))
}

async fn list(jobs: Jobs<Export>) -> Result<String, jobsess::Error> {
    Ok(jobs.ids().await?.join(","))
}

fn routes() -> Router {
    Router::new()
        .route("/jobs", get(list))
        .route("/jobs/{id}", post(start).get(show))
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn flow(base: &str) {
    let user = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    for id in ["b", "a"] {
        let response = user.post(format!("{base}/jobs/{id}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let shown = user.get(format!("{base}/jobs/a")).send().await.unwrap();
    assert_eq!(shown.text().await.unwrap(), "a.csv 40");
    let listed = user.get(format!("{base}/jobs")).send().await.unwrap();
    assert_eq!(listed.text().await.unwrap(), "a,b");
    // another browser has no jobs
    let other = reqwest::Client::new();
    let response = other.get(format!("{base}/jobs/a")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tower_sessions_0_15() {
    use tower_sessions_015::{MemoryStore, SessionManagerLayer};
    let app = routes().layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    flow(&serve(app).await).await;
}

#[tokio::test]
async fn tower_sessions_0_14() {
    use tower_sessions::{MemoryStore, SessionManagerLayer};
    let app = routes().layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    flow(&serve(app).await).await;
}

#[tokio::test]
async fn no_session_layer_is_a_500() {
    let base = serve(routes()).await;
    let response = reqwest::get(format!("{base}/jobs")).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.text().await.unwrap(), "internal server error");
}
