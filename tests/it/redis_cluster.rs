//! The Redis job store on a Redis Cluster of three masters that the test
//! starts on loopback: every script touches one hash slot and names every
//! key it touches, so the handle's operations and the HTTP flow work
//! through fred's cluster client. Skipped, by name, where `redis-cli` or
//! `redis-server` is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jobsess::redis::RedisJobStore;
use jobsess::{AsyncJobSession, Error, JobMetadata};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobMetadata, Debug, PartialEq, Clone)]
#[job_metadata(prefix = "render")]
struct Job {
    scene: String,
    #[serde(default)]
    progress: u8,
}

/// Three cluster-enabled redis-servers, killed when dropped.
struct Cluster {
    nodes: Vec<Child>,
    ports: Vec<u16>,
    dir: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.kill();
            let _ = node.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn node(port: u16, dir: &Path) -> Child {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--cluster-enabled",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts")
}

fn start_cluster() -> Cluster {
    let dir = std::env::temp_dir().join(format!("jobsess-cluster-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let nodes = ports.iter().map(|port| node(*port, &dir)).collect();
    let cluster = Cluster { nodes, ports, dir };
    for port in &cluster.ports {
        let mut up = false;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok() {
                up = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(up, "node {port} did not listen");
    }
    let addresses: Vec<String> = cluster
        .ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let created = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addresses)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .status()
        .expect("redis-cli runs");
    assert!(created.success(), "redis-cli --cluster create failed");
    for _ in 0..100 {
        let info = Command::new("redis-cli")
            .args(["-p", &cluster.ports[0].to_string(), "cluster", "info"])
            .output()
            .expect("redis-cli runs");
        if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
            return cluster;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the cluster did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_store_on_a_three_master_cluster() {
    require!(crate::common::tools(&["redis-server", "redis-cli"]));
    let cluster = start_cluster();
    let url = format!(
        "redis-cluster://127.0.0.1:{}?node=127.0.0.1:{}&node=127.0.0.1:{}",
        cluster.ports[0], cluster.ports[1], cluster.ports[2]
    );
    let store = RedisJobStore::connect(&url)
        .await
        .expect("the cluster answers")
        .with_ttl(Duration::from_secs(600));

    // 12 owners: their keys spread over the three masters' slots
    for n in 0..12 {
        let owner = store
            .owner(&RedisJobStore::new_owner_token().unwrap())
            .unwrap();
        let jobs = AsyncJobSession::<Job, _>::new(owner);
        for id in ["b", "a", "c"] {
            jobs.store(
                id,
                &Job {
                    scene: format!("{n}-{id}"),
                    progress: 0,
                },
            )
            .await
            .unwrap();
        }
        jobs.store_field("a", Job::PROGRESS, &n).await.unwrap();
        assert_eq!(jobs.load_field("a", Job::PROGRESS).await.unwrap(), Some(n));
        assert_eq!(
            jobs.load("c").await.unwrap().unwrap().scene,
            format!("{n}-c")
        );
        assert_eq!(jobs.ids().await.unwrap(), ["a", "b", "c"]);
        assert!(jobs.delete("b").await.unwrap());
        assert!(matches!(
            jobs.store_field("b", Job::PROGRESS, &1).await,
            Err(Error::JobNotFound { .. })
        ));
        assert_eq!(jobs.clear().await.unwrap(), 2);
        assert!(jobs.ids().await.unwrap().is_empty());
    }

    // the HTTP flow, first requests of a session at once included
    http_flow(store).await;
    drop(cluster);
}

async fn http_flow(store: RedisJobStore) {
    use axum::extract::Path;
    use axum::routing::{get, post};
    use axum::{Extension, Json, Router};
    use jobsess::redis::RedisJobs;
    use tower_sessions::{MemoryStore, SessionManagerLayer};

    async fn start(jobs: RedisJobs<Job>, Path(id): Path<String>) -> Result<(), jobsess::Error> {
        jobs.store(
            &id,
            &Job {
                scene: id.clone(),
                progress: 0,
            },
        )
        .await
    }
    async fn list(jobs: RedisJobs<Job>) -> Result<Json<Vec<String>>, jobsess::Error> {
        Ok(Json(jobs.ids().await?))
    }
    async fn login(session: tower_sessions::Session) -> Result<(), String> {
        session.insert("user", "u").await.map_err(|e| e.to_string())
    }

    let app = Router::new()
        .route("/jobs", get(list))
        .route("/jobs/{id}", post(start))
        .route("/login", post(login))
        .layer(Extension(store))
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let user = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    user.post(format!("{base}/login")).send().await.unwrap();
    let starts: Vec<_> = (0..8)
        .map(|i| {
            let (user, base) = (user.clone(), base.clone());
            tokio::spawn(async move {
                user.post(format!("{base}/jobs/job-{i}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for start in starts {
        assert!(start.await.unwrap().is_success());
    }
    let ids: Vec<String> = user
        .get(format!("{base}/jobs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids.len(), 8, "{ids:?}");
}
