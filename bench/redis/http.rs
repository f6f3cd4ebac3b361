//! The axum route on Redis against the same route by hand.

use super::*;

/// An axum route that reads one field and writes another through the
/// Redis job store, against the same route with raw fred calls (`HGET`,
/// then the least field-write script of [`FullFloors`]) on the same pool,
/// driven over real sockets by [`common::http::compare`]
/// (`JOBSESS_BENCH_HTTP=1`).
pub fn redis_http(
    rt: &tokio::runtime::Runtime,
    pool: &fred::prelude::Pool,
    store: &jobsess::redis::RedisJobStore,
    floors: &ScriptFloors,
) {
    use axum::extract::{Path, State};
    use axum::http::StatusCode;
    use axum::routing::post;
    use common::http::{CLIENTS, compare, preferences_for, serve, through_jobsess};
    use fred::prelude::{HashesInterface, KeysInterface};
    use jobsess::redis::{RedisJobStore, RedisOwnerJobs};

    #[derive(Clone)]
    struct Raw {
        pool: fred::prelude::Pool,
        store_field: fred::types::scripts::Script,
        owner: String,
    }

    async fn by_hand(
        State(raw): State<Raw>,
        Path(id): Path<String>,
    ) -> Result<String, (StatusCode, String)> {
        let failed = |e: fred::error::Error| (StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        let hash = format!("jobsess-bench-http:{{{}}}:job_{id}", raw.owner);
        let json: Option<String> = raw.pool.hget(&hash, "plugin_info").await.map_err(failed)?;
        let json = json.ok_or((StatusCode::NOT_FOUND, String::new()))?;
        let plugin: PluginInfo = serde_json::from_str(&json)
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let prefs = preferences_for(&plugin);
        let json = serde_json::to_string(&prefs)
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let args = vec![String::new(), "user_preferences".to_owned(), json];
        let found: i64 = raw
            .store_field
            .evalsha(raw.pool.next(), hash, args)
            .await
            .map_err(failed)?;
        if found == 0 {
            return Err((StatusCode::NOT_FOUND, String::new()));
        }
        Ok(plugin.title)
    }

    let token = RedisJobStore::new_owner_token().expect("a token");
    let jobs = AsyncJobSession::<TranscriptionJob, _>::new(store.owner(&token).expect("an owner"));
    let raw = Raw {
        pool: pool.clone(),
        store_field: floors.full.store_field.clone(),
        owner: token.clone(),
    };
    let hashes: Vec<String> = (0..CLIENTS)
        .map(|i| format!("jobsess-bench-http:{{{token}}}:job_http-{i}"))
        .collect();
    let (raw_base, jobs_base) = rt.block_on(async {
        let Value::Object(map) = serde_json::to_value(job_123()).expect("encodes") else {
            unreachable!()
        };
        let mut fields: Vec<(String, String)> =
            map.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        fields.push(("rev".into(), "1".into()));
        for (i, hash) in hashes.iter().enumerate() {
            jobs.store(&format!("http-{i}"), &job_123())
                .await
                .expect("stores");
            let _: () = pool.hset(hash, fields.clone()).await.expect("HSET");
        }
        let raw_app = axum::Router::new()
            .route("/jobs/{id}", post(by_hand))
            .with_state(raw);
        let jobs_app = axum::Router::new()
            .route("/jobs/{id}", post(through_jobsess::<RedisOwnerJobs>))
            .with_state(jobs.clone());
        (serve(raw_app).await, serve(jobs_app).await)
    });
    compare(rt, "redis_http", &raw_base, &jobs_base);
    rt.block_on(async {
        jobs.clear().await.expect("clears");
        let _: i64 = pool.del(hashes).await.expect("DEL");
    });
}
